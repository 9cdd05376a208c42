// Azure Monitor workbook over the pipeline's events (src/observability, docs/operations.md): runs, jobs,
// failures and throughput, from the dimensions projectId, runId, jobNumber, chapterId and synthesisId.
// The KQL lives in queries/*.kql (shared with the alerts and the docs).
@description('Application Insights component (in this resource group) the queries run against.')
param applicationInsightsName string

@description('Azure region.')
param location string

@description('Tags applied to the workbook.')
param tags object = {}

@description('Name shown in the portal.')
param displayName string = 'tts-pipeline: runs, jobs, failures'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var events = loadTextContent('queries/events.kql')

var queryItem = {
  version: 'KqlItem/1.0'
  size: 0
  queryType: 0
  resourceType: 'microsoft.insights/components'
  timeContext: { durationMs: 604800000 } // 7 days
}

var sections = [
  { name: 'runs', title: 'Runs', query: '${events}${loadTextContent('queries/runs.kql')}', visualization: 'table' }
  {
    name: 'jobs'
    title: 'Batch jobs: polls, service time, outcome'
    query: '${events}${loadTextContent('queries/jobs.kql')}'
    visualization: 'table'
  }
  {
    name: 'failures'
    title: 'Failures: chapters failed after fallback, failed jobs'
    query: '${events}${loadTextContent('queries/failures.kql')}'
    visualization: 'table'
  }
  {
    name: 'orchestrations'
    title: 'Failed orchestrations'
    query: loadTextContent('queries/failed-orchestrations.kql')
    visualization: 'table'
  }
  {
    name: 'throughput'
    title: 'Throughput: chapters and billable characters per 15 minutes'
    query: '${events}${loadTextContent('queries/throughput.kql')}'
    visualization: 'timechart'
  }
]

var workbookContent = {
  version: 'Notebook/1.0'
  items: concat(
    [
      {
        type: 1
        name: 'intro'
        content: {
          json: '## tts-pipeline\nRuns, batch jobs, failures and throughput from the pipeline events (last 7 days). What to do for each alert: docs/operations.md.'
        }
      }
    ],
    map(sections, s => {
      type: 3
      name: s.name
      content: union(queryItem, { title: s.title, query: s.query, visualization: s.visualization })
    })
  )
  fallbackResourceIds: [applicationInsights.id]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, applicationInsightsName, 'tts-pipeline-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(workbookContent)
  }
}

output workbookId string = workbook.id
