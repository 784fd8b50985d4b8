"""The one place that lists the routes."""

from __future__ import annotations

from aiohttp import web

from web import generation, health, models, training


def setup_routes(router: web.UrlDispatcher) -> None:
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
    router.add_get("/models/{name}/versions/{version:\\d+}", models.model_version)
    router.add_delete("/models/{name}/versions/{version:\\d+}", models.delete_model_version)
    router.add_get("/warehouse/summary", health.warehouse_summary)
    router.add_get("/warehouse/records", health.warehouse_records)


def install(web_app: web.Application, faust_app) -> None:
    """Add the API to the Faust worker's aiohttp application."""
    web_app["faust_app"] = faust_app
    setup_routes(web_app.router)


def create_app(faust_app=None) -> web.Application:
    """A standalone aiohttp application with the same middlewares and routes (for tests)."""
    from web.middleware import MIDDLEWARES
    from settings import get_settings

    web_app = web.Application(middlewares=MIDDLEWARES, client_max_size=get_settings().max_body_bytes)
    install(web_app, faust_app)
    return web_app
