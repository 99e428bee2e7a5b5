// Database roles by job (docs/decisions.md "Database roles"). The role running the migrations (the cluster's
// master user in AWS, `postgres` locally) owns the schema and is the only one with DDL. `payhooks_app` (consumer,
// recon, sweep) reads and writes rows; `payhooks_readonly` (reports, console, order-status API) only reads.
// Roles are cluster-wide and created idempotently; their passwords are set at deploy by the migrate function from
// their Secrets Manager secrets (setRolePassword), never here. Default privileges give tables and sequences that
// later migrations create in these schemas the same grants.

export const APP_ROLE = 'payhooks_app';
export const READONLY_ROLE = 'payhooks_readonly';

/** Several databases of one cluster may migrate at once (tests): a concurrent CREATE ROLE loses, and that is fine. */
const createRole = (role) => `
  do $$ begin
    if not exists (select from pg_roles where rolname = '${role}') then
      create role ${role} login nosuperuser nocreatedb nocreaterole noinherit;
    end if;
  exception when duplicate_object or unique_violation then null;
  end $$;`;

export async function up(sql) {
  await sql.unsafe(createRole(APP_ROLE));
  await sql.unsafe(createRole(READONLY_ROLE));
  await sql.unsafe(`
    -- No one but the owner creates objects: PostgreSQL < 15 lets PUBLIC create in schema public.
    revoke create on schema public from public;
    grant usage on schema public, stripe to ${APP_ROLE}, ${READONLY_ROLE};

    -- Rows only: COPY ... FROM into recon_lines needs INSERT; the inbox and recon reruns DELETE. No TRUNCATE,
    -- REFERENCES or TRIGGER, and nothing on ley's migrations table.
    grant select, insert, update, delete on all tables in schema public, stripe to ${APP_ROLE};
    grant usage, select on all sequences in schema public, stripe to ${APP_ROLE};
    revoke insert, update, delete on migrations from ${APP_ROLE};
    revoke usage, select on sequence migrations_id_seq from ${APP_ROLE};
    grant select on all tables in schema public, stripe to ${READONLY_ROLE};

    alter default privileges in schema public, stripe
      grant select, insert, update, delete on tables to ${APP_ROLE};
    alter default privileges in schema public, stripe grant usage, select on sequences to ${APP_ROLE};
    alter default privileges in schema public, stripe grant select on tables to ${READONLY_ROLE};
  `);
}

export async function down(sql) {
  // The roles stay: they are cluster-wide and other databases of the cluster may use them.
  await sql.unsafe(`
    alter default privileges in schema public, stripe revoke all on tables from ${APP_ROLE}, ${READONLY_ROLE};
    alter default privileges in schema public, stripe revoke all on sequences from ${APP_ROLE};
    revoke all on all tables in schema public, stripe from ${APP_ROLE}, ${READONLY_ROLE};
    revoke all on all sequences in schema public, stripe from ${APP_ROLE};
    revoke usage on schema public, stripe from ${APP_ROLE}, ${READONLY_ROLE};
  `);
}
