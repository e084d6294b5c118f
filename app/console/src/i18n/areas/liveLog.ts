import type { MessageArea } from '../areas'

/** The live log's own messages (run detail and pipeline run pages). */
const liveLog: MessageArea = {
  key: 'liveLog',
  'zh-CN': {
    jump: '跳到最新',
    newLines: '{count} 行新日志',
    lineCount: '共 {count} 行',
  },
  en: {
    jump: 'Jump to latest',
    newLines: '{count} new lines',
    lineCount: '{count} lines',
  },
}

export default liveLog
