// Azure AI Speech with a custom subdomain (required for Microsoft Entra ID tokens) and local (key)
// auth off: the app reaches it only through its managed identity and Cognitive Services Speech User.
@description('Speech resource name.')
param name string

@description('Custom subdomain: the endpoint becomes https://{customSubDomainName}.cognitiveservices.azure.com.')
param customSubDomainName string

@description('Azure region; main.bicep restricts it to regions with the Batch synthesis API.')
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

// The ARM id: realtime with Microsoft Entra ID sends `Authorization: Bearer aad#{id}#{token}`
// (rest-text-to-speech.md, "Use Microsoft Entra authentication").
output id string = speech.id
output name string = speech.name
output location string = speech.location
// The custom-domain endpoint as the resource reports it (right in sovereign clouds too), for Batch Synthesis.
output endpoint string = speech.properties.endpoint
// Realtime text to speech on the regional host, which takes aad#{id}#{token} Entra tokens. The custom domain's
// /tts path is documented only for resources with a private endpoint (speech-services-private-link.md).
output realtimeEndpoint string = 'https://${speech.location}.tts.speech.microsoft.com'
