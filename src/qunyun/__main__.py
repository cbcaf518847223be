from qunyun.cli.main import app

app()
