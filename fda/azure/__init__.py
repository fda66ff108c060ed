"""Optional Azure pieces (docs/azure.md): nothing here is imported unless a setting names an Azure endpoint."""
