// The consumer's SQS event-source batching, in a module of its own (no CDK imports) so that bench case 3 measures
// exactly the batch size that ships. Sized by bench case 3 (docs/decisions.md "Consumer batch size: 500"): a batch
// pays ≈ 6 ms of fixed PostgreSQL work (its statements, begin, commit), so warm containers spend ≈ 20 % less CPU
// per event at 500 than at 250, and 1,000 adds nothing more. Lambda cuts a batch at its 6 MB payload limit
// whatever this says.
export const CONSUMER_BATCH_SIZE = 500;
/** Above 10 records SQS requires a batching window of at least 1 s. */
export const CONSUMER_BATCH_WINDOW_SECONDS = 1;
