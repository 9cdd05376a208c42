// Log alerts on the pipeline (docs/operations.md says what to do for each): a failed orchestration
// (the Durable extension's tracking events) and chapters that failed even after the realtime fallback
// (the pipeline's chapter.failed events). Queries in queries/*.kql, shared with the workbook.
@description('Application Insights component the alert queries run against.')
param applicationInsightsId string

@description('Azure region.')
param location string

@description('Tags applied to the alert rules and the action group.')
param tags object = {}

@description('Prefix of the rule names (e.g. the Function App name).')
param namePrefix string

@description('E-mail address notified when an alert fires; empty: the rules fire without notifying anyone.')
param alertEmailAddress string = ''

@description('How often the rules run, and the window each looks at (ISO 8601 duration).')
param evaluationFrequency string = 'PT5M'

var events = loadTextContent('queries/events.kql')

var rules = [
  {
    name: '${namePrefix}-orchestration-failed'
    displayName: 'tts-pipeline: orchestration failed'
    description: 'A project run (or one of its job sub-orchestrations) ended Failed. See docs/operations.md, "Orchestration failed".'
    severity: 1
    query: loadTextContent('queries/failed-orchestrations.kql')
  }
  {
    name: '${namePrefix}-chapters-failed-after-fallback'
    displayName: 'tts-pipeline: chapters failed after fallback'
    description: 'Chapters failed in batch and then in the realtime fallback. See docs/operations.md, "Chapters failed after fallback".'
    severity: 2
    query: '${events}${loadTextContent('queries/chapters-failed-after-fallback.kql')}'
  }
]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmailAddress)) {
  name: '${namePrefix}-alerts'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'ttsalerts'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: rule.name
    location: location
    tags: tags
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [applicationInsightsId]
      evaluationFrequency: evaluationFrequency
      windowSize: evaluationFrequency
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: false
      actions: {
        actionGroups: empty(alertEmailAddress) ? [] : [actionGroup.id]
      }
    }
  }
]

output alertRuleNames array = [for (rule, i) in rules: alertRules[i].name]
