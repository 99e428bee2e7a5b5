// The page registry: each page says where it lives, who may see it in the navigation, and what it renders. The
// navigation hides pages a role cannot use; the API refuses them anyway (roles are enforced there, not here).
import type { ComponentChild } from 'preact';
import type { Api } from './api.ts';
import type { Location } from './route.ts';

export type Role = 'finance' | 'ops';

export interface Me {
  user: string;
  roles: Role[];
}

export interface PageProps {
  api: Api;
  me: Me;
  params: Record<string, string>;
  location: Location;
}

export interface PageDef {
  /** Hash path pattern, e.g. `/breaks/:id`. */
  path: string;
  title: string;
  roles: readonly Role[];
  /** Shown in the navigation (detail pages are reached from lists). */
  nav: boolean;
  /** The page `#/` opens for these roles (else the first page in the navigation). */
  homeFor?: readonly Role[];
  render(props: PageProps): ComponentChild;
}
