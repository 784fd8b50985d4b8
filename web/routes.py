"""The one place that lists the routes, and what the OpenAPI document says of each."""

from __future__ import annotations

from aiohttp import web

from worker.schemas import GenerateRequest, SqlRequest, StreamRequest, TrainRequest
from web import dashboard, docs, generation, health, metrics, models, openapi, training
from web.accepting import ACCEPTED, Accepted
from web.context import FAUST_APP, WORKER
from web.middleware import IN_FLIGHT, MIDDLEWARES
from web.openapi import ROUTE_DOCS_KEY, RouteDoc
from worker.state import Worker


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", dashboard.dashboard_page)
    router.add_get("/dashboard/assets/{name}", dashboard.dashboard_asset)
    router.add_get("/health", health.health)
    router.add_get("/train/methods", training.list_methods)
    router.add_get("/datasets", training.datasets)
    router.add_post("/train", training.start_training)
    router.add_get("/train/status/{task_id}", training.training_status)
    router.add_get("/train/tasks", training.training_task_list)
    router.add_post("/generate", generation.generate)
    router.add_post("/stream", generation.start_stream)
    router.add_get("/stream/{stream_id}", generation.stream_status)
    router.add_delete("/stream/{stream_id}", generation.cancel_stream)
    router.add_get("/streams", generation.stream_list)
    router.add_get("/model/info", models.model_info)
    router.add_get("/models", models.models)
    router.add_get("/models/{name}", models.model_detail)
    router.add_get("/models/{name}/report", models.model_report)
    router.add_get("/models/{name}/report.html", models.model_report_html)
    router.add_get("/models/{name}/versions/{version:\\d+}", models.model_version)
    router.add_delete("/models/{name}/versions/{version:\\d+}", models.delete_model_version)
    router.add_get("/warehouse/summary", health.warehouse_summary)
    router.add_get("/warehouse/records", health.warehouse_records)
    router.add_post("/warehouse/sql", health.warehouse_sql)
    router.add_get("/metrics", metrics.metrics)
    router.add_get("/openapi.json", openapi.openapi_json)
    router.add_get("/docs", docs.swagger_ui)
    router.add_get("/redoc", docs.redoc)
    router.add_get("/docs/assets/{name}", docs.asset)


MODEL_NAME = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
VERSION = {"type": "integer", "minimum": 0}
HTML = ("text/html",)
# Keyed by (method, path as the router spells it, without regular expressions).
ROUTE_DOCS: dict[tuple[str, str], RouteDoc] = {
    ("GET", "/"): RouteDoc("The dashboard: models, trainings, streams, latest rows; train and stream from it",
                           "dashboard", produces=HTML),
    ("GET", "/dashboard/assets/{name}"): RouteDoc("The dashboard's script or style sheet", "dashboard", (200, 404),
                                                  produces=("text/javascript", "text/css")),
    ("GET", "/health"): RouteDoc("Health of the service and its parts, and sink counters", "service", (200, 503)),
    ("GET", "/train/methods"): RouteDoc("The training methods and their parameters", "training"),
    ("GET", "/datasets"): RouteDoc("CSV files in the data directory", "training"),
    ("POST", "/train"): RouteDoc("Start training a model version", "training", (202, 409, 429), body=TrainRequest),
    ("GET", "/train/status/{task_id}"): RouteDoc("A training task's status and progress", "training", (200, 404)),
    ("GET", "/train/tasks"): RouteDoc("Every training task, newest first", "training"),
    ("POST", "/generate"): RouteDoc("Generate records inline (JSON or CSV) or to Kafka", "generation",
                                    (200, 202, 404, 409, 429), body=GenerateRequest,
                                    produces=("application/json", "text/csv")),
    ("POST", "/stream"): RouteDoc("Start a paced stream of records to the warehouse", "generation", (202, 404),
                                  body=StreamRequest),
    ("GET", "/stream/{stream_id}"): RouteDoc("Rows sent and landed, rows/s and state of a stream", "generation",
                                             (200, 404)),
    ("DELETE", "/stream/{stream_id}"): RouteDoc("Cancel a stream", "generation", (202, 404, 409)),
    ("GET", "/streams"): RouteDoc("Every stream, newest first", "generation"),
    ("GET", "/model/info"): RouteDoc("The default (or named) model's latest version", "models", (200, 404),
                                     query={"model_name": {"type": "string"}}),
    ("GET", "/models"): RouteDoc("Every model in the registry", "models"),
    ("GET", "/models/{name}"): RouteDoc("A model and its versions", "models", (200, 404),
                                        path_params={"name": MODEL_NAME}),
    ("GET", "/models/{name}/report"): RouteDoc(
        "Evaluation report (fidelity, utility, privacy, rules) of the latest version or ?version=", "models",
        (200, 404), path_params={"name": MODEL_NAME}, query={"version": {"type": "integer", "minimum": 1}}),
    ("GET", "/models/{name}/report.html"): RouteDoc(
        "The evaluation report as a page: scores, distribution plots, pair-trend heatmaps, privacy", "models",
        (200, 404), path_params={"name": MODEL_NAME}, query={"version": {"type": "integer", "minimum": 1}},
        produces=HTML),
    ("GET", "/models/{name}/versions/{version}"): RouteDoc(
        "One version of a model", "models", (200, 404), path_params={"name": MODEL_NAME, "version": VERSION}),
    ("DELETE", "/models/{name}/versions/{version}"): RouteDoc(
        "Delete a version (latest moves back)", "models", (200, 404),
        path_params={"name": MODEL_NAME, "version": VERSION}),
    ("GET", "/warehouse/summary"): RouteDoc("Rows landed, per model version", "warehouse", (200, 503)),
    ("GET", "/warehouse/records"): RouteDoc(
        "The latest landed records", "warehouse", (200, 400, 503),
        query={"request_id": {"type": "string"},
               "limit": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 100}}),
    ("POST", "/warehouse/sql"): RouteDoc(
        "Run one read-only analysis query (SELECT, SHOW, DESCRIBE, EXPLAIN); writes are refused with 422",
        "warehouse", (200, 400, 422, 503), body=SqlRequest),
    ("GET", "/metrics"): RouteDoc("Pipeline metrics, Prometheus text format", "service", produces=("text/plain",)),
    ("GET", "/openapi.json"): RouteDoc("This API's OpenAPI 3.1 document", "documentation"),
    ("GET", "/docs"): RouteDoc("Swagger UI", "documentation", produces=HTML),
    ("GET", "/redoc"): RouteDoc("ReDoc", "documentation", produces=HTML),
    ("GET", "/docs/assets/{name}"): RouteDoc("A script or style sheet of the documentation pages", "documentation",
                                             (200, 404), produces=("text/javascript", "text/css")),
}


def install(web_app: web.Application, faust_app, worker: Worker | None = None) -> None:
    """Add the API to the Faust worker's aiohttp application: the worker object (faust_app.worker unless given),
    the middlewares, the routes, and the views' own state."""
    if WORKER in web_app:
        return  # Faust initialises its web server more than once: middlewares added again would each count a request
    web_app[WORKER] = worker if worker is not None else faust_app.worker
    web_app[FAUST_APP] = faust_app
    web_app[ROUTE_DOCS_KEY] = ROUTE_DOCS
    web_app[IN_FLIGHT] = {}
    web_app[health.WAREHOUSE_CHECK] = health.WarehouseCheck()
    web_app[health.WAREHOUSE_READS] = health.CachedReads()
    web_app[ACCEPTED] = Accepted(web_app)
    web_app.middlewares.extend(MIDDLEWARES)
    setup_routes(web_app.router)


def create_app(worker: Worker, faust_app=None) -> web.Application:
    """A standalone aiohttp application with the same middlewares and routes, serving `worker` (for tests)."""
    web_app = web.Application(client_max_size=worker.settings.max_body_bytes)
    install(web_app, faust_app, worker)
    return web_app
