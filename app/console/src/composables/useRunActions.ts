/** Cancel and Retry on one run, each after a confirmation, with the outcome as a message (the run page and the page after Run). */
import { useI18n } from 'vue-i18n'
import { useRouter } from 'vue-router'
import { ElMessage, ElMessageBox } from 'element-plus'
import { ApiError } from '@/api/errors'
import { useRunStore } from '@/stores/run'

export function useRunActions(): (kind: 'cancel' | 'retry', id: string) => Promise<void> {
  const { t } = useI18n()
  const router = useRouter()
  const store = useRunStore()
  return async (kind, id) => {
    try {
      await ElMessageBox.confirm(t(kind === 'cancel' ? 'runs.confirmCancel' : 'runs.confirmRetry'), {
        confirmButtonText: t('common.confirm'),
        cancelButtonText: t('common.cancel'),
        type: 'warning',
      })
    } catch {
      return // the user said no
    }
    try {
      if (kind === 'cancel') {
        await store.cancel(id)
        ElMessage.success(t('runs.cancelled'))
      } else {
        const next = await store.retry(id)
        ElMessage.success(t('runs.retried'))
        await router.push(`/runs/${next}`)
      }
    } catch (exc) {
      ElMessage.error(exc instanceof ApiError ? exc.detail : String(exc))
    }
  }
}
