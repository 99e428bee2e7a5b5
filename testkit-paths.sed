# Old → new import paths for the test kit move (issue 10): the provider sandbox, the test database helper, the
# WeChat Pay bill writer/fixtures and the Stripe report writer now live in packages/testkit (@payhooks/testkit).
# Usage: sed -i -E -f testkit-paths.sed FILE…   Idempotent: every rewritten path no longer matches any rule.
# Specifiers are anchored on their quote characters (\1 = the opening quote).
#
# 1. Core's recon index no longer re-exports the test kit's writers and fixtures (delete those lines).
/^\/\*\* Provider-side helpers \(gzip, encrypt, hash\) for the sandbox and tests: never needed to read real bills\. \*\/$/d
/^export \* (as BillFixtures )?from (['"`])\.\/(wechatpay\/bill-(writer|fixtures)|stripe\/report-writer)\.ts\2;$/d
#
# 2. csvField is runtime code: it stays in core, in recon/csv-field.ts (a sibling of recon/stripe/).
s#(import \{ csvField \} from )(['"`])((\./|(\.\./)+)(src/)?(recon/)?)stripe/report-writer\.ts\2#\1\2\3csv-field.ts\2#
s#(import \{ csvField \} from )(['"`])\./report-writer\.ts\2#\1\2../csv-field.ts\2#
s#(import \{ csvField \} from )(['"`])@payhooks/core/recon/stripe/report-writer(\.ts)?\2#\1\2@payhooks/core/recon\2#
#
# 3. Package specifiers.
s#(['"`])@payhooks/local/sandbox/([A-Za-z0-9-]+)(\.ts)?\1#\1@payhooks/testkit/sandbox/\2\1#g
s#(['"`])@payhooks/local/testing(\.ts)?\1#\1@payhooks/testkit/testing\1#g
s#(['"`])@payhooks/core/recon/wechatpay/bill-(writer|fixtures)(\.ts)?\1#\1@payhooks/testkit/bills/bill-\2\1#g
s#(['"`])@payhooks/core/recon/stripe/report-writer(\.ts)?\1#\1@payhooks/testkit/reports/report-writer\1#g
#
# 4. Relative forms: './sandbox/x.ts' (local/src), '../src/sandbox/x.ts' (local/tests), '../../src/sandbox/x.ts'
#    (local/tests/helpers), '../src/testing.ts', './wechatpay/bill-writer.ts' (core recon), '../stripe/report-writer.ts'
#    (core recon/run), '../../src/recon/wechatpay/bill-writer.ts' (core tests), './bill-writer.ts' (recon/wechatpay).
s#(['"`])(\./|(\.\./)+)((packages/)?local/)?(src/)?sandbox/([A-Za-z0-9-]+)\.ts\1#\1@payhooks/testkit/sandbox/\7\1#g
s#(['"`])(\./|(\.\./)+)((packages/)?local/)?(src/)?testing\.ts\1#\1@payhooks/testkit/testing\1#g
s#(['"`])(\./|(\.\./)+)((packages/)?core/)?((src/)?recon/)?wechatpay/bill-(writer|fixtures)\.ts\1#\1@payhooks/testkit/bills/bill-\8\1#g
s#(['"`])\./bill-(writer|fixtures)\.ts\1#\1@payhooks/testkit/bills/bill-\2\1#g
s#(['"`])(\./|(\.\./)+)((packages/)?core/)?((src/)?recon/)?stripe/report-writer\.ts\1#\1@payhooks/testkit/reports/report-writer\1#g
s#(['"`])\./report-writer\.ts\1#\1@payhooks/testkit/reports/report-writer\1#g
#
# 5. Repository paths in docs and comments.
s#packages/local/src/sandbox/#packages/testkit/src/sandbox/#g
s#packages/local/src/testing\.ts#packages/testkit/src/testing.ts#g
s#packages/core/src/recon/wechatpay/bill-(writer|fixtures)\.ts#packages/testkit/src/bills/bill-\1.ts#g
s#packages/core/src/recon/stripe/report-writer\.ts#packages/testkit/src/reports/report-writer.ts#g
