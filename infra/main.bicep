// tts-pipeline on Azure: `azd up` creates everything the app needs, identity only (no keys, no
// connection strings): a resource group with a user-assigned identity, a storage account, Azure AI
// Speech, Log Analytics + Application Insights and a Flex Consumption Function App, plus the data
// roles the app (and, for local debugging, the deploying user) needs.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags every resource.')
param environmentName string

// Every region here offers both the Batch synthesis API ("Supported regions for Azure Speech", Text to speech tab:
// MicrosoftDocs/azure-ai-docs articles/ai-services/speech-service/regions.md, 11/09/2025) and Flex Consumption (the
// list of the official template, Azure-Samples/functions-quickstart-typescript-azd infra/main.bicep). Batch synthesis
// is missing in e.g. canadaeast, italynorth, japanwest, qatarcentral, switzerlandwest, ukwest, westcentralus, westus3.
@minLength(1)
@description('Region of the Function App and every resource (Speech too unless speechLocation says otherwise). It must offer Flex Consumption and batch synthesis.')
@allowed([
  'australiaeast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'westeurope'
  'westus'
  'westus2'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Region of the Speech resource (default: location), e.g. for its own quota; same list as location.')
@allowed([
  'australiaeast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'westeurope'
  'westus'
  'westus2'
])
param speechLocation string = location

@description('Object id of the deploying user (azd sets AZURE_PRINCIPAL_ID). Gets the same data roles as the app, so a local run can use the real storage and Speech. Empty: no user roles.')
param principalId string = ''

@description('Kind of principal in principalId (ServicePrincipal when a pipeline deploys).')
@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Durable Functions backend: azureStorage (host.json\'s default, in the storage account above) or durableTaskScheduler (a Durable Task Scheduler, Consumption SKU, reached with the identity).')
@allowed(['azureStorage', 'durableTaskScheduler'])
param durableBackend string = 'azureStorage'

@description('Resource group name; empty: rg-{environmentName}.')
param resourceGroupName string = ''

// CONTRACT §5 settings the app reads; the defaults are the contract's.
@description('CHAPTERS_CONTAINER: container the app reads chapters from.')
param chaptersContainerName string = 'chapters'

@description('AUDIO_CONTAINER: container the app writes audio, subtitles and manifests to.')
param audioContainerName string = 'audio'

@description('WORK_CONTAINER: container for the pipeline\'s run working state (plans, job lists, outcomes).')
param workContainerName string = 'tts-work'

@description('VIDEO_QUEUE: queue the video step reads one message per chapter from.')
param videoQueueName string = 'video-requests'

@description('DEFAULT_VOICE')
param defaultVoice string = 'en-US-AvaMultilingualNeural'

@description('DEFAULT_OUTPUT_FORMAT')
param defaultOutputFormat string = 'audio-24khz-96kbitrate-mono-mp3'

@description('SYNTHESIS_MODE')
@allowed(['batch', 'realtime'])
param synthesisMode string = 'batch'

@description('MAX_CHAPTERS_PER_JOB')
@minValue(1)
param maxChaptersPerJob int = 100

@description('MAX_JOB_PAYLOAD_BYTES')
@minValue(1)
param maxJobPayloadBytes int = 1900000

@description('MAX_CONCURRENT_JOBS')
@minValue(1)
param maxConcurrentJobs int = 3

@description('MAX_CHAPTER_ATTEMPTS')
@minValue(1)
param maxChapterAttempts int = 3

@description('PRICE_PER_MILLION_CHARACTERS (a decimal number, as text).')
param pricePerMillionCharacters string = '15'

@description('Upper bound of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each Flex Consumption instance.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('E-mail address the pipeline alerts notify (docs/operations.md); empty: alerts fire without notifying.')
param alertEmailAddress string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-${resourceToken}'
var identityName = 'id-${resourceToken}'
var storageAccountName = 'st${resourceToken}'
var applicationInsightsName = 'appi-${resourceToken}'
var speechName = 'spch-${resourceToken}'
var useDurableTaskScheduler = durableBackend == 'durableTaskScheduler'
// Flex Consumption reads its package from this container with the app's identity.
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    chaptersContainerName: chaptersContainerName
    audioContainerName: audioContainerName
    workContainerName: workContainerName
    videoQueueName: videoQueueName
    deploymentContainerName: deploymentContainerName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
  }
}

// Workbook and alert rules over the pipeline's events (docs/operations.md).
module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
  }
  dependsOn: [monitoring]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    location: location
    tags: tags
    namePrefix: functionAppName
    alertEmailAddress: alertEmailAddress
  }
}

module speech 'modules/speech.bicep' = {
  name: 'speech'
  scope: rg
  params: {
    name: speechName
    customSubDomainName: speechName
    location: speechLocation
    tags: tags
  }
}

module durableTaskScheduler 'modules/durableTaskScheduler.bicep' = if (useDurableTaskScheduler) {
  name: 'durableTaskScheduler'
  scope: rg
  params: {
    name: 'dts-${resourceToken}'
    taskHubName: 'ttspipeline'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    appSettings: {
      // Functions host and Durable Functions (Azure Storage backend) through the identity.
      AzureWebJobsStorage__accountName: storage.outputs.name
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.outputs.clientId
      // Telemetry signed with the identity (Application Insights local auth is off).
      APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.applicationInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
      // DefaultAzureCredential in the app (storage SDKs, Speech) picks the user-assigned identity.
      AZURE_CLIENT_ID: identity.outputs.clientId
      // CONTRACT §5 and §8. No SPEECH_KEY: the app authenticates to Speech with Microsoft Entra ID: batch on the
      // custom-domain endpoint, realtime on the regional endpoint with aad#{SPEECH_RESOURCE_ID}#{token}.
      SPEECH_ENDPOINT: speech.outputs.endpoint
      SPEECH_REGION: speech.outputs.location
      SPEECH_REALTIME_ENDPOINT: speech.outputs.realtimeEndpoint
      SPEECH_RESOURCE_ID: speech.outputs.id
      CHAPTERS_CONTAINER: storage.outputs.chaptersContainerName
      AUDIO_CONTAINER: storage.outputs.audioContainerName
      VIDEO_QUEUE: storage.outputs.videoQueueName
      WORK_CONTAINER: storage.outputs.workContainerName
      DEFAULT_VOICE: defaultVoice
      DEFAULT_OUTPUT_FORMAT: defaultOutputFormat
      SYNTHESIS_MODE: synthesisMode
      MAX_CHAPTERS_PER_JOB: string(maxChaptersPerJob)
      MAX_JOB_PAYLOAD_BYTES: string(maxJobPayloadBytes)
      MAX_CONCURRENT_JOBS: string(maxConcurrentJobs)
      MAX_CHAPTER_ATTEMPTS: string(maxChapterAttempts)
      PRICE_PER_MILLION_CHARACTERS: pricePerMillionCharacters
    }
    // Only with durableBackend=durableTaskScheduler: host.json's storage provider overridden by app
    // settings; the connection string names the identity, it holds no secret.
    durableSettings: useDurableTaskScheduler
      ? {
          DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskScheduler!.outputs.endpoint};Authentication=ManagedIdentity;ClientID=${identity.outputs.clientId}'
          TASKHUB_NAME: durableTaskScheduler!.outputs.taskHubName
          AzureFunctionsJobHost__extensions__durableTask__hubName: durableTaskScheduler!.outputs.taskHubName
          AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
          AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
        }
      : {}
  }
}

module appRoles 'modules/roleAssignments.bicep' = {
  name: 'appRoles'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    storageAccountName: storageAccountName
    applicationInsightsName: applicationInsightsName
    speechName: speechName
  }
  dependsOn: [storage, monitoring, speech]
}

module userRoles 'modules/roleAssignments.bicep' = if (!empty(principalId)) {
  name: 'userRoles'
  scope: rg
  params: {
    principalId: principalId
    principalType: principalType
    storageAccountName: storageAccountName
    applicationInsightsName: applicationInsightsName
    speechName: speechName
  }
  dependsOn: [storage, monitoring, speech]
}

// Read by azd (deploy target, `azd env get-values`) and by docs/deploy.md.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.uri
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_ENDPOINTS array = [functionApp.outputs.uri]
output SERVICE_API_URI string = functionApp.outputs.uri
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint
output AZURE_SPEECH_NAME string = speech.outputs.name
output SPEECH_ENDPOINT string = speech.outputs.endpoint
output SPEECH_REGION string = speech.outputs.location
output SPEECH_REALTIME_ENDPOINT string = speech.outputs.realtimeEndpoint
output SPEECH_RESOURCE_ID string = speech.outputs.id
output CHAPTERS_CONTAINER string = storage.outputs.chaptersContainerName
output AUDIO_CONTAINER string = storage.outputs.audioContainerName
output VIDEO_QUEUE string = storage.outputs.videoQueueName
output DURABLE_BACKEND string = durableBackend
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
