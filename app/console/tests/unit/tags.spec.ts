import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))

function vueFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? vueFiles(path) : entry.name.endsWith('.vue') ? [path] : []
  })
}

describe('tags', () => {
  it('are drawn whole at once: every ElTag has disable-transitions', () => {
    // Without it Element Plus zooms a tag in from scaleX(0) whenever it is mounted (a table loading, a page opening),
    // so a state read right then (the settings-tokens-zh-CN screenshot: 有效 / 已撤销) is a squeezed sliver.
    const animated = vueFiles(SRC).flatMap((file) =>
      [...readFileSync(file, 'utf-8').matchAll(/<(ElTag|el-tag)\b[^>]*>/g)]
        .filter((tag) => !/\bdisable-transitions\b/.test(tag[0]))
        .map((tag) => `${file.slice(SRC.length + 1)}: ${tag[0].slice(0, 60)}`),
    )
    expect(animated).toEqual([])
  })
})
