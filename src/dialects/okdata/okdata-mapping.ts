/** The core's okdata views in okdata's own response shapes (snake_case, `status` for the lifecycle). */
import type { HistoryPage, OkdataView, SubscribableView } from './okdata-service.js';
import type { OkdataSinkView } from './okdata-sinks.js';

export function streamOut(view: OkdataView) {
  return {
    id: view.id,
    create_raw: view.createRaw,
    updated_by: view.updatedBy,
    updated_at: view.updatedAt,
    deleted: view.deleted,
    status: view.status,
  };
}

/** GET also names the dataset's access rights and their confidentiality (okdata took them from its dataset catalogue) */
export function streamWithAccessOut(view: OkdataView) {
  return { ...streamOut(view), accessRights: view.accessRights, confidentiality: view.confidentiality };
}

export function subscribableOut(view: SubscribableView) {
  return { enabled: view.enabled, status: view.status, updated_by: view.updatedBy, updated_at: view.updatedAt };
}

export function historyOut(page: HistoryPage) {
  return { values: page.values, page: page.page, total_pages: page.totalPages };
}

export function sinkOut(view: OkdataSinkView) {
  return { type: view.type, status: view.status, updated_by: view.updatedBy, updated_at: view.updatedAt };
}
