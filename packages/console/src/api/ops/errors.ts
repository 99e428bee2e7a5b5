// Errors the operations API answers on purpose: each has a stable code and the HTTP status it maps to.
import { PayhooksError } from '@payhooks/core/errors';

export class OpsRequestError extends PayhooksError {
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(code, message);
    this.status = status;
  }
}
