// POST /machine/register over Noise: decode the RegisterRequest, let the state decide, answer
// with a RegisterResponse (HTTP 200 even for refusals, as clients expect) or a plain HTTP error.

import type { H2ServerStream } from '../../protocol/h2/server-stream.js';
import type { State } from '../../state/index.js';
import type { RegisterRequest } from '../../tailcfg/types.js';
import { RegisterHttpError } from '../../state/registration.js';
import type { Logger } from '../../lib/logger.js';
import { readJsonBody, respondJson, respondText } from './h2-io.js';

export async function handleRegister(state: State, stream: H2ServerStream, machineKey: string, logger: Logger): Promise<void> {
  const req = await readJsonBody<RegisterRequest>(stream);
  const abort = new AbortController();
  stream.once('close', () => abort.abort());
  try {
    const res = await state.registration.register(machineKey, req, abort.signal);
    if (res.Error) logger.info('registration refused', { machine: machineKey, reason: res.Error });
    respondJson(stream, 200, res);
  } catch (err) {
    if (err instanceof RegisterHttpError) return respondText(stream, err.status, err.message);
    throw err;
  }
}
