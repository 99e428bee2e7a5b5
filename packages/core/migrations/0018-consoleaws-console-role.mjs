// The console API's own database role (docs/decisions.md "Console on AWS"): `payhooks_console` reads the ledger
// and reconciliation tables (finance's pages, ops' event search) and writes exactly what a console action changes
// — a break's assignee, state and resolution (recon_breaks) and one row of its audit trail (recon_break_events,
// append-only by trigger). No other insert, update or delete; no DDL; nothing on ley's migrations table. Re-runs
// and uploads of provider files go through the reconciliation path with its own role, never this one.
// Created like 0006's roles: cluster-wide, idempotently; its password comes from its secret at deploy.

export const CONSOLE_ROLE = 'payhooks_console';

export async function up(sql) {
  await sql.unsafe(`
    do $$ begin
      if not exists (select from pg_roles where rolname = '${CONSOLE_ROLE}') then
        create role ${CONSOLE_ROLE} login nosuperuser nocreatedb nocreaterole noinherit;
      end if;
    exception when duplicate_object or unique_violation then null;
    end $$;

    grant usage on schema public, stripe, wechatpay to ${CONSOLE_ROLE};
    grant select on all tables in schema public, stripe, wechatpay to ${CONSOLE_ROLE};
    revoke select on migrations from ${CONSOLE_ROLE};
    alter default privileges in schema public, stripe, wechatpay grant select on tables to ${CONSOLE_ROLE};

    -- assign / resolve / write off change these columns only (break-actions.ts); SELECT ... FOR UPDATE needs it.
    grant update (assignee, state, resolution, closed_at, updated_at) on recon_breaks to ${CONSOLE_ROLE};
    grant insert on recon_break_events to ${CONSOLE_ROLE};
  `);
}

export async function down(sql) {
  // The role stays (cluster-wide; other databases of the cluster may use it).
  await sql.unsafe(`
    alter default privileges in schema public, stripe, wechatpay revoke all on tables from ${CONSOLE_ROLE};
    revoke all on all tables in schema public, stripe, wechatpay from ${CONSOLE_ROLE};
    revoke usage on schema public, stripe, wechatpay from ${CONSOLE_ROLE};
  `);
}
