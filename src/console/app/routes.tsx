/**
 * Every page of the console: a pattern of the hash path, a title, and what renders it.
 * A new page is one file in pages/ and one line here; `nav` puts it in the header.
 */
import type { ComponentChild } from 'preact';
import { compile, type Params } from './router';
import { KeysPage } from './pages/keys';
import { OverviewPage } from './pages/overview';
import { RulePage, RulesPage } from './pages/rules';
import { SinkPage, SinksPage } from './pages/sinks';
import { SpecPage, SpecsPage } from './pages/specs';
import { StreamPage } from './pages/stream-page';

export interface RouteDef {
  pattern: string;
  title: (params: Params) => string;
  render: (params: Params) => ComponentChild;
  /** a header link to this page (patterns without parameters only) */
  nav?: string;
  /** the header link only for admin keys */
  admin?: boolean;
}

export const routes: RouteDef[] = [
  { pattern: '/', title: () => 'Overview', nav: 'Overview', render: () => <OverviewPage /> },
  {
    pattern: '/streams/:name/:tab?',
    title: (p) => `Stream ${p.name ?? ''}`,
    render: (p) => <StreamPage name={p.name!} tab={p.tab} />,
  },
  { pattern: '/sinks', title: () => 'Sinks', nav: 'Sinks', render: () => <SinksPage /> },
  {
    pattern: '/sinks/:id/:tab?',
    title: (p) => `Sink ${p.id ?? ''}`,
    render: (p) => <SinkPage id={p.id!} tab={p.tab} />,
  },
  { pattern: '/rules', title: () => 'Rules', nav: 'Rules', render: () => <RulesPage /> },
  { pattern: '/rules/:id', title: (p) => `Rule ${p.id ?? ''}`, render: (p) => <RulePage id={p.id!} /> },
  { pattern: '/keys', title: () => 'Keys', nav: 'Keys', admin: true, render: () => <KeysPage /> },
  { pattern: '/specs', title: () => 'Specs', nav: 'Specs', render: () => <SpecsPage /> },
  {
    pattern: '/specs/:owner/:dataset/:revision?',
    title: (p) => `Spec ${p.owner ?? ''}/${p.dataset ?? ''}`,
    render: (p) => <SpecPage owner={p.owner!} dataset={p.dataset!} revision={p.revision} />,
  },
];

const compiled = routes.map((route) => ({ route, match: compile(route.pattern) }));

export function resolve(path: string): { route: RouteDef; params: Params } | null {
  for (const { route, match } of compiled) {
    const params = match(path);
    if (params) return { route, params };
  }
  return null;
}
