// Optional Durable Functions backend (main.bicep durableBackend=durableTaskScheduler): a Durable Task
// Scheduler with one task hub, reached with the app's identity (Durable Task Data Contributor), and
// the same role for the deploying user so the scheduler dashboard works for them.
@description('Scheduler name.')
@minLength(3)
param name string

@description('Task hub name.')
@minLength(3)
param taskHubName string

@description('Azure region.')
param location string

@description('Tags applied to the scheduler.')
param tags object = {}

@description('Principal id of the app identity.')
param appPrincipalId string

@description('Object id of the deploying user; empty: no user role.')
param userPrincipalId string = ''

@description('Kind of principal in userPrincipalId.')
@allowed(['User', 'ServicePrincipal', 'Group'])
param userPrincipalType string = 'User'

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    ipAllowlist: ['0.0.0.0/0']
    sku: {
      name: 'Consumption'
    }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

// Durable Task Data Contributor
resource appDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(scheduler.id, appPrincipalId, '0ad04412-c4d5-4796-b79c-f76d14c8d402')
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '0ad04412-c4d5-4796-b79c-f76d14c8d402'
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Durable Task Data Contributor
resource userDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(scheduler.id, userPrincipalId, '0ad04412-c4d5-4796-b79c-f76d14c8d402')
  scope: scheduler
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '0ad04412-c4d5-4796-b79c-f76d14c8d402'
    )
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
