import type { MessageArea } from '../areas'

/** The live log's own messages (run detail and pipeline run pages). */
const liveLog: MessageArea = {
  key: 'liveLog',
  'zh-CN': {
    jump: '跳到最新',
  },
  en: {
    jump: 'Jump to latest',
  },
}

export default liveLog
