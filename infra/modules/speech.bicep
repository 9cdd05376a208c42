// Azure AI Speech with a custom subdomain (required for Microsoft Entra ID tokens) and local (key)
// auth off: the app reaches it only through its managed identity and Cognitive Services Speech User.
@description('Speech resource name.')
param name string

@description('Custom subdomain: the endpoint becomes https://{customSubDomainName}.cognitiveservices.azure.com.')
param customSubDomainName string

@description('Azure region (Batch Synthesis is available in every Speech region with S0).')
param location string

@description('Tags applied to the resource.')
param tags object = {}

@description('Pricing tier; Batch Synthesis refuses F0.')
@allowed(['S0'])
param skuName string = 'S0'

resource speech 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SpeechServices'
  sku: {
    name: skuName
  }
  properties: {
    customSubDomainName: customSubDomainName
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

output id string = speech.id
output name string = speech.name
output endpoint string = 'https://${customSubDomainName}.cognitiveservices.azure.com'
// Realtime text to speech on the same custom domain (POST {this}/cognitiveservices/v1), which also
// accepts Entra ID tokens.
output realtimeEndpoint string = 'https://${customSubDomainName}.cognitiveservices.azure.com/tts'
