// The example component of generator-kelkoo: serves an HTML page and /health, with its settings
// read from $KELKOO_CONFIG_DIR/config.json (written by its Puppet module).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const configDir = process.env.KELKOO_CONFIG_DIR ?? '/etc/kelkoo/hello';
let config = { listen_port: 8080, greeting: 'Hello' };
try {
  config = { ...config, ...JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) };
} catch {
  // defaults when there is no configuration yet
}
const page = readFileSync(join(root, 'public', 'index.html'), 'utf8');
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"UP"}');
  } else if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page.replace('{{greeting}}', escape(config.greeting)));
  } else {
    res.writeHead(404).end();
  }
}).listen(config.listen_port, () => console.log(`hello listening on ${config.listen_port}`));
