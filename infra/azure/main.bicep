// FastAPI Docs Assistant on Azure (docs/azure.md): Container Apps (api, ui) behind one user-assigned managed
// identity, Azure OpenAI, Azure AI Search, Key Vault, PostgreSQL (query log + feedback), Log Analytics and
// Application Insights. Deploy:
//   az deployment group create -g fda-rg -f infra/azure/main.bicep -p infra/azure/main.parameters.json \
//     -p postgresAdminPassword=<a strong password>
// Checked here by tests/infra/test_azure_bicep.py (pycep parses it; the test checks what it must hold);
// `az bicep build -f infra/azure/main.bicep` is the authoritative validator (docs/azure.md, manual step).

targetScope = 'resourceGroup'

@description('Short name used as the prefix of every resource (lower case letters and digits).')
@minLength(3)
@maxLength(12)
param name string = 'fdadocs'

@description('Region of every resource.')
param location string = resourceGroup().location

@description('Container image of the service (infra/Dockerfile, built with the azure extra), e.g. <acr>.azurecr.io/fda:0.4.0.')
param image string

@description('Azure OpenAI model deployed for answers.')
param openAiModel string = 'gpt-4o-mini'

@description('Version of that model.')
param openAiModelVersion string = '2024-07-18'

@description('Tokens-per-minute capacity of the deployment, in thousands.')
param openAiCapacity int = 30

@description('REST api-version the service calls Azure OpenAI with.')
param openAiApiVersion string = '2024-10-21'

@description('Azure AI Search tier: basic holds the three docs versions (~4k chunks each) with room to spare.')
@allowed(['basic', 'standard'])
param searchSku string = 'basic'

@description('PostgreSQL administrator login.')
param postgresAdmin string = 'fdaadmin'

@description('PostgreSQL administrator password (goes into Key Vault as part of the DSN; never into app settings).')
@secure()
param postgresAdminPassword string

@description('Most API replicas; the query log in PostgreSQL is what lets several run.')
@minValue(1)
@maxValue(30)
param apiMaxReplicas int = 5

@description('Concurrent requests per API replica before another starts (a hosted LM serves many at once).')
param apiConcurrency int = 20

var suffix = uniqueString(resourceGroup().id, name)

// Built-in role definitions (ids are fixed across tenants)
var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  searchIndexDataReader: '1407120a-92aa-4202-b7e9-c0e197c71c8f'
  searchIndexDataContributor: '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
  cognitiveServicesOpenAiUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${name}-id'
  location: location
}

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${name}-logs-${suffix}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-ai-${suffix}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: false
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: '${name}acr${suffix}'
  location: location
  sku: { name: 'Basic' }
  properties: { adminUserEnabled: false }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: '${name}-kv-${take(suffix, 8)}'
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource search 'Microsoft.Search/searchServices@2023-11-01' = {
  name: '${name}-search-${suffix}'
  location: location
  sku: { name: searchSku }
  properties: {
    replicaCount: 1
    partitionCount: 1
    semanticSearch: 'free'
    // Entra ID for the app (roles below); API keys stay possible for `fda index --target azure-search` from a laptop
    authOptions: { aadOrApiKey: { aadAuthFailureMode: 'http401WithBearerChallenge' } }
  }
}

resource openAi 'Microsoft.CognitiveServices/accounts@2023-05-01' = {
  name: '${name}-openai-${suffix}'
  location: location
  kind: 'OpenAI'
  sku: { name: 'S0' }
  properties: {
    customSubDomainName: '${name}-openai-${suffix}'
    disableLocalAuth: true // Entra ID only: the managed identity, no key to leak
    publicNetworkAccess: 'Enabled'
  }
}

resource openAiDeployment 'Microsoft.CognitiveServices/accounts/deployments@2023-05-01' = {
  parent: openAi
  name: openAiModel
  sku: { name: 'Standard', capacity: openAiCapacity }
  properties: {
    model: { format: 'OpenAI', name: openAiModel, version: openAiModelVersion }
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
  name: '${name}-pg-${suffix}'
  location: location
  sku: { name: 'Standard_B1ms', tier: 'Burstable' }
  properties: {
    version: '15'
    administratorLogin: postgresAdmin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
  }
}

resource postgresDb 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = {
  parent: postgres
  name: 'fda'
}

resource postgresAzureAccess 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2022-12-01' = {
  parent: postgres
  name: 'allow-azure-services'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

// Secrets the service reads at start-up (fda/azure/keyvault.py; names match the azure.secrets defaults)
resource dsnSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'fda-postgres-dsn'
  properties: {
    value: 'postgresql://${postgresAdmin}:${postgresAdminPassword}@${postgres.properties.fullyQualifiedDomainName}:5432/fda?sslmode=require'
  }
}

resource insightsSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'fda-appinsights-connection-string'
  properties: { value: insights.properties.ConnectionString }
}

// What the identity may do, each on one resource only
resource vaultRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource searchRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, identity.id, roles.searchIndexDataReader)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.searchIndexDataReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource searchWrite 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, identity.id, roles.searchIndexDataContributor)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.searchIndexDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource openAiUse 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(openAi.id, identity.id, roles.cognitiveServicesOpenAiUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAiUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource imagePull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identity.id, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource telemetryPublish 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource environment 'Microsoft.App/managedEnvironments@2023-05-01' = {
  name: '${name}-env-${suffix}'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

// The docs corpus (FastAPI docs at three tags, ../shared/corpus): uploaded once to a file share, mounted
// read-only at /corpus as the image expects (infra/Dockerfile)
resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: '${name}st${take(suffix, 8)}'
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: { minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: false }
}

resource files 'Microsoft.Storage/storageAccounts/fileServices@2023-01-01' = {
  parent: storage
  name: 'default'
}

resource corpusShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-01-01' = {
  parent: files
  name: 'corpus'
  properties: { shareQuota: 1 }
}

resource corpusStorage 'Microsoft.App/managedEnvironments/storages@2023-05-01' = {
  parent: environment
  name: 'corpus'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: corpusShare.name
      accessMode: 'ReadOnly'
    }
  }
}

// The settings the service reads (fda/settings.py; FDA_ prefix, __ between levels). No secret here: the
// identity reads those from Key Vault at start-up.
var apiEnv = [
  { name: 'FDA_PRESET', value: 'production' }
  { name: 'FDA_API__HOST', value: '0.0.0.0' }
  { name: 'FDA_API__LM_CONCURRENCY', value: string(apiConcurrency) }
  { name: 'FDA_LM__MODEL', value: 'azure/${openAiDeployment.name}' }
  { name: 'FDA_LM__API_BASE', value: openAi.properties.endpoint }
  { name: 'FDA_LM__API_VERSION', value: openAiApiVersion }
  { name: 'FDA_LM__AZURE_AD', value: 'true' }
  { name: 'FDA_AZURE__KEY_VAULT_URL', value: vault.properties.vaultUri }
  { name: 'FDA_AZURE__SEARCH__ENDPOINT', value: 'https://${search.name}.search.windows.net' }
  { name: 'FDA_API__LOG_STORE', value: 'postgres' }
  { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId } // DefaultAzureCredential picks this identity
]

resource api 'Microsoft.App/containerApps@2023-05-01' = {
  name: '${name}-api'
  location: location
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identity.id}': {} } }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      ingress: { external: true, targetPort: 8000, transport: 'auto', allowInsecure: false }
      registries: [ { server: registry.properties.loginServer, identity: identity.id } ]
    }
    template: {
      containers: [
        {
          name: 'api'
          image: image
          args: [ 'serve' ] // the image's entrypoint: ingest the mounted corpus, build indexes, serve
          env: apiEnv
          resources: { cpu: json('2.0'), memory: '4Gi' }
          volumeMounts: [
            { volumeName: 'corpus', mountPath: '/corpus' }
            { volumeName: 'state', mountPath: '/data' }
          ]
          probes: [
            { type: 'Liveness', httpGet: { path: '/healthz', port: 8000 }, periodSeconds: 10 }
            { type: 'Readiness', httpGet: { path: '/readyz', port: 8000 }, periodSeconds: 10, failureThreshold: 30 }
          ]
        }
      ]
      volumes: [
        { name: 'corpus', storageType: 'AzureFile', storageName: corpusStorage.name }
        { name: 'state', storageType: 'EmptyDir' } // per replica: store and indexes rebuilt at start (minutes)
      ]
      scale: {
        minReplicas: 1
        maxReplicas: apiMaxReplicas
        rules: [ { name: 'http-concurrency', http: { metadata: { concurrentRequests: string(apiConcurrency) } } } ]
      }
    }
  }
  dependsOn: [ vaultRead, searchRead, openAiUse, imagePull ]
}

resource ui 'Microsoft.App/containerApps@2023-05-01' = {
  name: '${name}-ui'
  location: location
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identity.id}': {} } }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      ingress: { external: true, targetPort: 8501, transport: 'auto', allowInsecure: false }
      registries: [ { server: registry.properties.loginServer, identity: identity.id } ]
    }
    template: {
      containers: [
        {
          name: 'ui'
          image: image
          args: [ 'ui' ]
          env: [
            { name: 'FDA_UI__API_URL', value: 'https://${api.properties.configuration.ingress.fqdn}' }
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
          ]
          resources: { cpu: json('0.5'), memory: '1Gi' }
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: 2
        rules: [ { name: 'http', http: { metadata: { concurrentRequests: '30' } } } ]
      }
    }
  }
  dependsOn: [ imagePull ]
}

output apiUrl string = 'https://${api.properties.configuration.ingress.fqdn}'
output uiUrl string = 'https://${ui.properties.configuration.ingress.fqdn}'
output searchEndpoint string = 'https://${search.name}.search.windows.net'
output keyVaultUrl string = vault.properties.vaultUri
output registry string = registry.properties.loginServer
output identityClientId string = identity.properties.clientId
output corpusShare string = '${storage.name}/${corpusShare.name}'
