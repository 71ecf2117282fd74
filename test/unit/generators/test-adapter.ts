// yeoman-test's TestAdapter (from @yeoman/adapter 4 and 5) gives its prompt module an output made
// by `Duplex.from(async () => {})` and never listens for that stream's errors. From Node 24.22 on,
// such a stream is destroyed with an AbortError as soon as the function returns, so every generator
// run under test reported an uncaught AbortError and failed the suite on Node 24 (on Node 20 and 22
// the stream stays quiet). Real runs are not concerned: the CLI adapter prompts on
// process.stdin/stdout. This wraps the adapter's construction only: the streams it makes from a
// function get a listener that drops that AbortError and rethrows anything else.
import { Duplex } from 'node:stream';
import helpers from 'yeoman-test';

function dropAbort(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ABORT_ERR') throw error;
}

const createTestAdapter = helpers.createTestAdapter.bind(helpers);

helpers.createTestAdapter = (options) => {
  const from = Duplex.from.bind(Duplex);
  Duplex.from = (body: Parameters<typeof Duplex.from>[0]) => {
    const stream = from(body);
    if (typeof body === 'function') stream.on('error', dropAbort);
    return stream;
  };
  try {
    return createTestAdapter(options);
  } finally {
    Duplex.from = from;
  }
};

export { helpers };
