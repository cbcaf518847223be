"""Platform adapters: each translates one platform's payloads to canonical events and actions to
platform calls. No business logic here."""
