/**
 * A run error's message as a person reads it. Most are a step's or a reader's own text, shown as written; the reaper's
 * "no heartbeat from <worker> since <instant>" (scheduler/reaper.py, error code worker_lost) is Conveyor's English
 * with a UTC instant to the microsecond, so it is worded in the page's language, the instant in the reader's time zone.
 */
import type { NamedTranslator } from '@/i18n/notices'
import { formatTime } from '@/utils/format'

const NO_HEARTBEAT = /^no heartbeat from (?<worker>\S+) since (?<at>\S+)$/

export function runErrorMessage(error: { code: string | null; message: string }, t: NamedTranslator['t'], locale: string): string {
  const lost = error.code === 'worker_lost' ? NO_HEARTBEAT.exec(error.message)?.groups : undefined
  if (lost?.worker && lost.at && !Number.isNaN(Date.parse(lost.at))) {
    return t('runsMore.noHeartbeat', { worker: lost.worker, time: formatTime(lost.at, locale) })
  }
  return error.message
}
