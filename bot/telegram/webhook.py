"""Our own webhook endpoint: a small tornado server that refuses before it reads.

Why not PTB's: it reads a whole body before checking the secret (three 90 MB bodies took the
process from 62 to 518 MB), and answers malformed JSON with 500, which Telegram retries
forever. Here the secret and the size are checked on the headers alone; a body is read only
for a caller who knows the secret, and only up to MAX_BODY.
"""

from __future__ import annotations

import hmac
import json
import logging

import tornado.netutil
import tornado.routing
import tornado.web
from telegram import Bot
from tornado.http1connection import HTTP1Connection
from tornado.httpserver import HTTPServer

from bot.telegram.intake import Intake, Outcome, parse_update
from bot.telegram.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)
PATH = "/telegram"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are a few kB; a megabyte is generous


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, bot: Bot, intake: Intake, secret: str) -> None:
        self.bot = bot
        self.intake = intake
        self.secret = secret
        self._chunks: list[bytes] = []
        self._size = 0

    async def prepare(self) -> None:
        # Only the headers have been read so far: refusing here never reads the body.
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            await self._refuse(403)
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await self._refuse(413)

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= MAX_BODY:  # chunked bodies: the server's max_body_size stops them
            self._chunks.append(chunk)

    async def post(self) -> None:
        if self._size > MAX_BODY:
            self._answer(413)
            return
        try:
            data = json.loads(b"".join(self._chunks))
        except ValueError:  # UnicodeDecodeError included; 400 so Telegram does not retry
            log.warning("webhook: a body that is not JSON (%d bytes)", self._size)
            self._answer(400)
            return
        update = parse_update(data, self.bot)
        if update is None:
            self.intake.unparsable += 1
            self._answer(400)
            return
        outcome = self.intake.submit(update)
        # BUSY: 503 makes Telegram send it again later; dropped ones are not worth a retry.
        self._answer(503 if outcome is Outcome.BUSY else 200)

    def _answer(self, status: int) -> None:
        self.set_status(status)
        self.finish()

    async def _refuse(self, status: int) -> None:
        self.set_status(status)
        await self.finish()
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection):
            connection.close()  # tornado would otherwise read (and discard) the whole body

    def write_error(self, status_code: int, **kwargs: object) -> None:
        self.finish()  # no traceback or request echo in the answer


class _HealthHandler(tornado.web.RequestHandler):
    """200 while this replica takes updates; 503 once it is closing, so a load balancer
    stops sending to it before it goes."""

    def initialize(self, intake: Intake) -> None:
        self.intake = intake

    def get(self) -> None:
        self.set_status(503 if self.intake.closing else 200)
        self.set_header("Content-Type", "text/plain")
        self.finish("closing\n" if self.intake.closing else "ok\n")


class _MetricsHandler(tornado.web.RequestHandler):
    def initialize(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(self.metrics.render())


class WebhookServer:
    def __init__(
        self,
        bot: Bot,
        intake: Intake,
        *,
        listen: str,
        port: int,
        secret: str,
        metrics: Metrics | None = None,
    ) -> None:
        routes: list[tornado.routing.Rule | tuple[object, ...]] = [
            (PATH, _UpdateHandler, {"bot": bot, "intake": intake, "secret": secret}),
            (HEALTH_PATH, _HealthHandler, {"intake": intake}),
        ]
        if metrics is not None:
            routes.append((METRICS_PATH, _MetricsHandler, {"metrics": metrics}))
        app = tornado.web.Application(
            routes,  # type: ignore[arg-type]
            log_function=lambda handler: None,  # the access log is noise; nothing to add
        )
        self._server = HTTPServer(
            app,
            max_body_size=MAX_BODY,
            max_buffer_size=MAX_BODY,
            body_timeout=30.0,
            idle_connection_timeout=120.0,
        )
        self.intake = intake
        self.listen = listen
        self.port = port

    async def start(self) -> None:
        sockets = tornado.netutil.bind_sockets(self.port, self.listen)
        self._server.add_sockets(sockets)

    async def stop(self, grace: float) -> None:
        """Stop accepting, finish what was accepted (it was answered 200) within `grace`."""
        self._server.stop()
        await self.intake.close(grace, abandon_queued=False)
        await self._server.close_all_connections()
