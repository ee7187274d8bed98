import { defineConsumerSuite } from '../conformance/store/consumer-suite.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/resources.js';
import { openTestStore } from '../support/test-app.js';

defineConsumerSuite('sqlite', () => openTestStore(tempDir()), {
  async reopen(store) {
    const dir = (store as SqliteStore).path.replace(/\/rivulet\.db$/, '');
    await store.close();
    return openTestStore(dir);
  },
});
