// GET /me: who the verified token says you are — the pages build their navigation from it (the API still checks
// every route's role on its own).
import { json } from './http.ts';
import { type ApiRoute, ROLES } from './types.ts';

export function sessionRoutes(): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/me',
      roles: ROLES,
      handle: async ({ caller }) => json(200, { user: caller.user, roles: caller.roles }),
    },
  ];
}
