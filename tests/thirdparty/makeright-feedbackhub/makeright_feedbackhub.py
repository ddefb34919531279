"""FeedbackHub, a review platform MakeRight knows nothing about, as a package of its own.

Everything MakeRight needs is on the connector class: the platform's name, the name a person
reads, its reply limit, the settings a source needs. Installing this package is all it takes
for FeedbackHub reviews to be synced, drafted, approved and answered.

The API: `GET /v1/reviews?since=...` lists reviews newest first; `GET` and `PUT`
`/v1/reviews/<id>/reply` read and write the one reply of a review. A bearer key authenticates.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import requests

from connectors.base import Connector, PostedReply, Review, parse_time
from connectors.errors import PlatformRejected, TransientError

TIMEOUT = 10


class FeedbackHubConnector(Connector):
    platform: ClassVar[str] = "feedbackhub"
    platform_label: ClassVar[str] = "FeedbackHub"
    reply_limit: ClassVar[int] = 1500
    reply_limit_unit: ClassVar[str] = "chars"
    label: ClassVar[str] = "FeedbackHub"
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "title": "FeedbackHub",
        "required": ["base_url", "api_key"],
        "properties": {
            "base_url": {"type": "string", "minLength": 1, "title": "API address"},
            "api_key": {"type": "string", "minLength": 1, "title": "API key", "secret": True},
        },
    }

    def __init__(self, settings: dict[str, Any], **_options: Any):
        super().__init__(settings)
        self.base = settings["base_url"].rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {settings['api_key']}"

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.http.request(method, self.base + path, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise TransientError(f"FeedbackHub: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise TransientError(f"FeedbackHub answered {response.status_code}")
        if response.status_code >= 400 and response.status_code != 404:
            raise PlatformRejected(f"FeedbackHub refused: {response.status_code}")
        return response

    def fetch(self, since: str | None = None) -> Iterator[Review]:
        params = {"since": since} if since else {}
        for item in self._call("GET", "/v1/reviews", params=params).json()["reviews"]:
            yield Review(platform=self.platform, external_id=str(item["id"]),
                         rating=int(item["stars"]), author=item.get("author", ""),
                         text=item.get("body", ""), language=item.get("lang"),
                         created_at=parse_time(item["written_at"], "written_at",
                                               required=True)).validated()  # type: ignore[arg-type]

    def post_reply(self, review: Review, text: str) -> PostedReply:
        self.check_reply(text)
        response = self._call("PUT", f"/v1/reviews/{review.external_id}/reply",
                              json={"text": text})
        return PostedReply(response.json()["text"], platform_id=review.external_id)

    def get_reply(self, review: Review) -> PostedReply | None:
        response = self._call("GET", f"/v1/reviews/{review.external_id}/reply")
        if response.status_code == 404:
            return None
        return PostedReply(response.json()["text"], platform_id=review.external_id)
