/** History-mode routes; every page but sign-in needs a session, and a forced password change comes first. */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSessionStore } from '@/stores/session'

const routes: RouteRecordRaw[] = [
  { path: '/sign-in', name: 'sign-in', component: () => import('@/views/auth/SignInView.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('@/components/layout/AppLayout.vue'),
    children: [
      { path: '', name: 'dashboard', component: () => import('@/views/dashboard/DashboardView.vue') },
      { path: 'runs', name: 'runs', component: () => import('@/views/runs/RunsView.vue') },
      { path: 'runs/:id', name: 'run', component: () => import('@/views/runs/RunDetailView.vue'), props: true },
      { path: 'change-password', name: 'change-password', component: () => import('@/views/auth/ChangePasswordView.vue') },
      { path: 'pipelines', name: 'pipelines', component: () => import('@/views/pipelines/PipelinesView.vue') },
      { path: 'pipelines/new', name: 'pipeline-new', component: () => import('@/views/pipelines/PipelineEditView.vue') },
      { path: 'pipelines/:id', name: 'pipeline', component: () => import('@/views/pipelines/PipelineView.vue'), props: true },
      { path: 'pipelines/:id/edit', name: 'pipeline-edit', component: () => import('@/views/pipelines/PipelineEditView.vue'), props: true },
      { path: 'pipelines/:id/runs/:runId', name: 'pipeline-run', component: () => import('@/views/pipelines/PipelineRunView.vue'), props: true },
      { path: 'deployments', name: 'deployments', component: () => import('@/views/deployments/DeploymentsView.vue') },
      { path: 'deployments/new', name: 'deployment-new', component: () => import('@/views/deployments/DeploymentEditView.vue') },
      { path: 'deployments/:id', name: 'deployment', component: () => import('@/views/deployments/DeploymentView.vue'), props: true },
      { path: 'deployments/:id/edit', name: 'deployment-edit', component: () => import('@/views/deployments/DeploymentEditView.vue'), props: true },
      { path: 'datasets', name: 'datasets', component: () => import('@/views/datasets/DatasetsView.vue') },
      { path: 'datasets/:id', name: 'dataset', component: () => import('@/views/datasets/DatasetView.vue'), props: true },
      { path: 'datasets/:id/configure', name: 'dataset-configure', component: () => import('@/views/datasets/ConfigureView.vue'), props: true },
      {
        path: 'settings',
        component: () => import('@/views/settings/SettingsView.vue'),
        children: [
          { path: '', name: 'settings', redirect: '/settings/profile' },
          { path: 'profile', name: 'settings-profile', component: () => import('@/views/settings/ProfileView.vue') },
          { path: 'users', name: 'settings-users', component: () => import('@/views/settings/UsersView.vue') },
          { path: 'namespaces', name: 'settings-namespaces', component: () => import('@/views/settings/NamespacesView.vue') },
          { path: 'tokens', name: 'settings-tokens', component: () => import('@/views/settings/TokensView.vue') },
          { path: 'audit', name: 'settings-audit', component: () => import('@/views/settings/AuditView.vue') },
          { path: 'webhooks', name: 'settings-webhooks', component: () => import('@/views/settings/WebhooksView.vue') },
          { path: 'webhooks/:id', name: 'settings-webhook', component: () => import('@/views/settings/WebhookView.vue'), props: true },
        ],
      },
      { path: ':rest(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue') },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  const session = useSessionStore()
  if (to.meta.public) return true
  if (!session.signedIn && !(await session.restore())) {
    return { name: 'sign-in', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  if (session.mustChangePassword && to.name !== 'change-password') return { name: 'change-password' }
  return true
})
