import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath } from 'node:url'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

/**
 * Writes `x.js.br` and `x.js.gz` beside every compressible built asset, so the API sends them
 * compressed without compressing on each request (app/api/console_assets.py picks one).
 * Node's own zlib does both codings: no plugin dependency needed.
 */
function precompress(): Plugin {
  let outDir = 'dist'
  return {
    name: 'conveyor-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
    },
    closeBundle() {
      const assets = join(outDir, 'assets')
      for (const name of readdirSync(assets)) {
        if (!/\.(js|mjs|css|svg|json)$/.test(name)) continue
        const body = readFileSync(join(assets, name))
        if (body.length < 1024) continue
        writeFileSync(join(assets, `${name}.gz`), gzipSync(body, { level: 9 }))
        writeFileSync(
          join(assets, `${name}.br`),
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        )
      }
    },
  }
}

// The console is served by the API at `/`; during `npm run dev` the API runs on :8000.
export default defineConfig({
  plugins: [vue(), precompress()],
  base: '/',
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // The entry must stay small (≤ 250 KB gzipped): pages and charts are separate chunks.
    chunkSizeWarningLimit: 800,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
})
