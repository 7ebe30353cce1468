// A static file server on 127.0.0.1 for the browser tests and benchmarks of the threads build: `mounts` maps URL
// prefixes to folders (nothing outside them is served, no listings); `isolated` adds the COOP/COEP headers that make
// a page cross-origin isolated (SharedArrayBuffer, so loadModel(.., {threads}) can run the pthreads build).
// "/" answers an empty page to run scripts in.
//   const server = await serveStatic({ mounts: { '/': repoDir, '/models/': modelDir }, isolated: true });
//   ... server.url ...; await server.close();
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json',
  '.html': 'text/html' };

export async function serveStatic({ mounts, isolated = true }) {
  const roots = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length); // longest prefix first
  const server = createServer(async (req, res) => {
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    res.setHeader('Cache-Control', 'no-store');
    const path = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><title>sparsebyte</title>');
      return;
    }
    for (const [prefix, dir] of roots) {
      if (!path.startsWith(prefix) || path.includes('\0')) continue;
      const root = resolve(dir);
      const file = resolve(root, `.${sep}${path.slice(prefix.length)}`);
      if (file !== root && !file.startsWith(root + sep)) break;
      try {
        if (!(await stat(file)).isFile()) break;
      } catch {
        break;
      }
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((ok) => server.close(ok)),
  };
}
