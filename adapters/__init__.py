"""Platform adapters: each translates one platform's events into questions for ``bot.service`` and renders replies."""
