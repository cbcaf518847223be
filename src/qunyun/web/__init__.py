"""The dashboard: server-rendered pages (Jinja2 + HTMX, ECharts) mounted on the API's app.

`qunyun.web.app.mount_dashboard(app, runtime)` adds the static files, the templates, the page
routers and staff sign-in. Pages read everything through the signed-in principal's scope.
"""
