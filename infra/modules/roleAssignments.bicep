// Assignment names are guid(scope, principalId, role), as the official Flex Consumption azd templates' rbac.bicep
// (Azure-Samples/functions-quickstart-typescript-azd, durable-functions-quickstart-typescript-azd: infra/app/rbac.bicep):
// a redeploy after the identity was deleted and recreated under the same name gets new names instead of
// colliding with the old principal's assignments (RoleAssignmentUpdateNotPermitted).
// Data-plane roles for one principal (the app's identity, or the deploying user for local runs),
// exactly what the app uses:
//   storage: blobs (chapters, audio, user-delegation SAS for Speech, Durable large messages,
//            host leases and keys), queues (Durable control/work-item queues, video-requests),
//            tables (Durable history and instances);
//   Application Insights: publishing telemetry with Entra ID (local auth is off);
//   Speech: Batch Synthesis and realtime synthesis with Entra ID (local auth is off).
@description('Object id of the principal that receives the roles.')
param principalId string

@description('Kind of principal: the app identity is a ServicePrincipal, a developer is a User.')
@allowed(['ServicePrincipal', 'User', 'Group'])
param principalType string

@description('Storage account the roles apply to.')
param storageAccountName string

@description('Application Insights component the telemetry role applies to.')
param applicationInsightsName string

@description('Speech resource the synthesis role applies to.')
param speechName string

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource speech 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: speechName
}

// Storage Blob Data Owner
resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
    )
    principalId: principalId
    principalType: principalType
  }
}

// Storage Queue Data Contributor
resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
    )
    principalId: principalId
    principalType: principalType
  }
}

// Storage Table Data Contributor
resource storageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
    )
    principalId: principalId
    principalType: principalType
  }
}

// Monitoring Metrics Publisher
resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, '3913510d-42f4-4e42-8a64-420c390055eb')
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '3913510d-42f4-4e42-8a64-420c390055eb'
    )
    principalId: principalId
    principalType: principalType
  }
}

// Cognitive Services Speech User
resource speechUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(speech.id, principalId, 'f2dc8367-1007-4938-bd23-fe263f013447')
  scope: speech
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      'f2dc8367-1007-4938-bd23-fe263f013447'
    )
    principalId: principalId
    principalType: principalType
  }
}
