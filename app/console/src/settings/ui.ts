/** Small UI helpers the Settings pages share: confirming, reporting errors, copying a secret. */
import { ElMessage, ElMessageBox } from 'element-plus'
import { ApiError } from '@/api/errors'
import { i18n } from '@/i18n'

const t = (key: string, params: Record<string, unknown> = {}): string => i18n.global.t(key, params)

/** True when the user confirmed `message`. */
export async function confirmed(message: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, t('settings.confirmTitle'), {
      confirmButtonText: t('common.confirm'),
      cancelButtonText: t('common.cancel'),
      type: 'warning',
    })
    return true
  } catch {
    return false // the user said no
  }
}

/** The message to show for a failed call. */
export function failure(exc: unknown): string {
  return exc instanceof ApiError ? exc.detail : String(exc)
}

/** Run `action`, showing its error as a message instead of throwing. */
export async function attempt(action: () => Promise<void>): Promise<void> {
  try {
    await action()
  } catch (exc) {
    ElMessage.error(failure(exc))
  }
}

/** Copy to the clipboard; where the browser refuses, the secret stays selectable on screen. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
    ElMessage.success(t('settings.copied'))
  } catch (exc) {
    ElMessage.warning(failure(exc))
  }
}
