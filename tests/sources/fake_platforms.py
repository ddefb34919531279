"""A fake of the three review platforms on a loopback port, for end-to-end tests.

It implements only what the connectors call: the OAuth token endpoint, listing reviews page by
page (two per page, so every sync crosses pages), reading one review's reply and writing a
reply, and it refuses calls without a bearer token, as the real ones do. Every request is
recorded, and every reply write that was stored (`writes`).

A write can be scripted to go wrong after the platform stored it (`after_store`): answer 503,
or answer too late for the client (a timeout), optionally after someone else replaced the reply
in between (`then_reply`) — the cases where a client cannot know what happened.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests import loopback

PAGE = 2
ACCESS_TOKEN = "ya29.loopback-access-token"
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STARS = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}


@dataclass
class FakeReview:
    id: str
    rating: int
    text: str
    at: datetime
    author: str = "Sam Carter"
    reply: str | None = None


@dataclass
class FakePlatforms:
    """State of all three platforms; tests read `replies` and `requests` after the fact."""

    refresh_token: str = ""
    gbp_location: str = "accounts/111/locations/222"
    package: str = "com.example.budget"
    app_id: str = "1234567890"
    reviews: dict[str, list[FakeReview]] = field(default_factory=dict)
    replies: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    token_grants: list[str] = field(default_factory=list)
    base_url: str = ""
    #: (review id, text) of every reply write the platform stored, in order.
    writes: list[tuple[str, str]] = field(default_factory=list)
    #: review id -> "503" or "timeout": what happens to the answer after the next write is stored.
    after_store: dict[str, str] = field(default_factory=dict)
    #: review id -> a reply someone else writes right after ours was stored.
    then_reply: dict[str, str] = field(default_factory=dict)
    #: How long a "timeout" answer takes; longer than the client waits.
    late_seconds: float = 1.5
    #: Set when the fake stops: an answer still being held back goes out at once.
    stopping: threading.Event = field(default_factory=threading.Event)

    def seed(self, platform: str, count: int) -> list[FakeReview]:
        """`count` reviews, newest first, one hour apart; the second oldest already answered."""
        made = [FakeReview(id=self._id(platform, n), rating=1 + n % 5,
                           text=f"Review {n}: the order arrived late and the box was damaged.",
                           at=START - timedelta(hours=n)) for n in range(count)]
        if count >= 2:
            made[-2].reply = "Thanks for telling us; we have fixed the delivery slot."
        self.reviews[platform] = made
        return made

    def edit(self, platform: str, index: int, text: str) -> None:
        review = self.reviews[platform][index]
        review.text, review.at = text, START + timedelta(hours=1)
        self.reviews[platform].sort(key=lambda r: r.at, reverse=True)

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for m, path in self.requests if m == method and fragment in path)

    def _id(self, platform: str, n: int) -> str:
        if platform == "google_business":
            return f"{self.gbp_location}/reviews/r{n}"
        return f"{platform}-{n:03d}"

    # --- dispatch -------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append((request.method, request.full_path))
        if request.path == "/token":
            response = self._token(request)
        elif request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}" \
                and not request.headers.get("Authorization", "").startswith("Bearer ey"):
            response = _json({"error": {"code": 401, "message": "Request had invalid "
                                        "authentication credentials.",
                                        "status": "UNAUTHENTICATED"}}, 401)
        elif request.path.startswith("/v4/"):
            response = self._business(request)
        elif request.path.startswith("/androidpublisher/"):
            response = self._play(request)
        elif request.path.startswith("/v1/"):
            response = self._app_store(request)
        else:
            response = _json({"error": {"message": "no such endpoint"}}, 404)
        return response(environ, start_response)

    def _token(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        grant = form.get("grant_type", [""])[0]
        self.token_grants.append(grant)
        if grant == "refresh_token" and form.get("refresh_token", [""])[0] != self.refresh_token:
            return _json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        if grant not in ("refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"):
            return _json({"error": "unsupported_grant_type"}, 400)
        return _json({"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})

    def _page(self, platform: str, token: str | None) -> tuple[list[FakeReview], str | None]:
        start = int(token or 0)
        items = self.reviews.get(platform, [])
        following = start + PAGE
        return items[start:following], str(following) if following < len(items) else None

    # --- Google Business Profile ----------------------------------------------------------

    def _business(self, request: Request) -> Response:
        name = request.path.removeprefix("/v4/")
        if request.method == "GET" and name == f"{self.gbp_location}/reviews":
            page, token = self._page("google_business", request.args.get("pageToken"))
            body: dict[str, Any] = {"reviews": [self._gbp(r) for r in page],
                                    "totalReviewCount": len(self.reviews.get(
                                        "google_business", [])), "averageRating": 3.0}
            if token:
                body["nextPageToken"] = token
            return _json(body)
        if request.method == "GET" and self._find("google_business", name):
            return _json(self._gbp(self._find("google_business", name)))
        if request.method == "PUT" and name.endswith("/reply"):
            review = self._find("google_business", name.removesuffix("/reply"))
            if review is None:
                return _json({"error": {"message": "Requested entity was not found."}}, 404)
            review.reply = self.replies[review.id] = request.get_json()["comment"]
            return self._stored(review) or _json({"comment": review.reply,
                                                  "updateTime": _rfc3339(START)})
        return _json({"error": {"message": "not implemented by the fake"}}, 404)

    def _gbp(self, review: FakeReview) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": review.id, "reviewId": review.id.rsplit("/", 1)[1],
            "reviewer": {"displayName": review.author}, "starRating": STARS[review.rating],
            "comment": review.text, "createTime": _rfc3339(review.at),
            "updateTime": _rfc3339(review.at)}
        if review.reply:
            body["reviewReply"] = {"comment": review.reply, "updateTime": _rfc3339(review.at)}
        return body

    # --- Google Play ----------------------------------------------------------------------

    def _play(self, request: Request) -> Response:
        base = f"/androidpublisher/v3/applications/{self.package}/reviews"
        if request.method == "GET" and request.path == base:
            page, token = self._page("google_play", request.args.get("token"))
            body: dict[str, Any] = {"reviews": [self._play_review(r) for r in page]}
            if token:
                body["tokenPagination"] = {"nextPageToken": token}
            return _json(body)
        one = self._find("google_play", request.path.removeprefix(base + "/"))
        if request.method == "GET" and one is not None:
            return _json(self._play_review(one))
        if request.method == "POST" and request.path.endswith(":reply"):
            review_id = request.path.removeprefix(base + "/").removesuffix(":reply")
            review = self._find("google_play", review_id)
            if review is None:
                return _json({"error": {"message": "Review not found"}}, 404)
            review.reply = self.replies[review.id] = request.get_json()["replyText"]
            return self._stored(review) or _json({"result": {
                "replyText": review.reply,
                "lastEdited": {"seconds": str(int(START.timestamp()))}}})
        return _json({"error": {"message": "not implemented by the fake"}}, 404)

    def _play_review(self, review: FakeReview) -> dict[str, Any]:
        stamp = {"seconds": str(int(review.at.timestamp())), "nanos": 0}
        comments: list[dict[str, Any]] = [{"userComment": {
            "text": review.text, "lastModified": stamp, "starRating": review.rating,
            "reviewerLanguage": "en"}}]
        if review.reply:
            comments.append({"developerComment": {"text": review.reply, "lastModified": stamp}})
        return {"reviewId": review.id, "authorName": review.author, "comments": comments}

    # --- App Store Connect ----------------------------------------------------------------

    def _app_store(self, request: Request) -> Response:
        if request.method == "GET" and request.path == f"/v1/apps/{self.app_id}/customerReviews":
            page, token = self._page("app_store", request.args.get("cursor"))
            included = [{"type": "customerReviewResponses", "id": f"resp-{r.id}",
                         "attributes": {"responseBody": r.reply, "state": "PUBLISHED",
                                        "lastModifiedDate": _rfc3339(r.at)}}
                        for r in page if r.reply]
            body: dict[str, Any] = {
                "data": [self._asc_review(r) for r in page], "included": included,
                "links": {"self": request.url}, "meta": {"paging": {
                    "total": len(self.reviews.get("app_store", [])), "limit": PAGE}}}
            if token:
                body["links"]["next"] = (f"{self.base_url}/v1/apps/{self.app_id}/customerReviews"
                                         f"?cursor={token}&limit={PAGE}")
            return _json(body)
        if request.method == "GET" and request.path.startswith("/v1/customerReviews/"):
            review_id, _, rest = request.path.removeprefix("/v1/customerReviews/").partition("/")
            review = self._find("app_store", review_id)
            if review is None or (rest == "response" and not review.reply):
                return _json({"errors": [{"status": "404", "code": "NOT_FOUND",
                                          "title": "The resource was not found."}]}, 404)
            if rest == "response":
                return _json({"data": {"type": "customerReviewResponses",
                                       "id": f"resp-{review.id}",
                                       "attributes": {"responseBody": review.reply,
                                                      "lastModifiedDate": _rfc3339(START),
                                                      "state": "PUBLISHED"}}})
            return _json({"data": self._asc_review(review)})
        if request.method == "POST" and request.path == "/v1/customerReviewResponses":
            data = request.get_json()["data"]
            review = self._find("app_store", data["relationships"]["review"]["data"]["id"])
            if review is None:
                return _json({"errors": [{"status": "404", "code": "NOT_FOUND",
                                          "title": "The review was not found."}]}, 404)
            review.reply = self.replies[review.id] = data["attributes"]["responseBody"]
            return self._stored(review) or _json({"data": {
                "type": "customerReviewResponses", "id": f"resp-{review.id}",
                "attributes": {"responseBody": review.reply, "lastModifiedDate": _rfc3339(START),
                               "state": "PENDING_PUBLISH"}}}, 201)
        return _json({"errors": [{"status": "404", "title": "not implemented by the fake"}]}, 404)

    def _asc_review(self, review: FakeReview) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "customerReviews", "id": review.id,
            "attributes": {"rating": review.rating, "title": "Late delivery",
                           "body": review.text, "reviewerNickname": review.author,
                           "createdDate": _rfc3339(review.at), "territory": "USA"}}
        if review.reply:
            body["relationships"] = {"response": {"data": {
                "type": "customerReviewResponses", "id": f"resp-{review.id}"}}}
        return body

    def _stored(self, review: FakeReview) -> Response | None:
        """Record a stored write and play its script; None answers as the platform would."""
        self.writes.append((review.id, review.reply or ""))
        if review.id in self.then_reply:
            review.reply = self.replies[review.id] = self.then_reply.pop(review.id)
        fault = self.after_store.pop(review.id, None)
        if fault == "timeout":
            self.stopping.wait(self.late_seconds)  # answers late; a stopping one at once
        if fault is not None:
            return _json({"error": {"code": 503, "message": "The service is currently "
                                                            "unavailable.",
                                    "status": "UNAVAILABLE"}}, 503)
        return None

    def _find(self, platform: str, review_id: str) -> FakeReview | None:
        return next((r for r in self.reviews.get(platform, []) if r.id == review_id), None)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Served:
    """The fake on 127.0.0.1 and a free port, in a daemon thread, until `close`."""

    def __init__(self, platforms: FakePlatforms):
        self.platforms = platforms
        self._server = make_server("127.0.0.1", 0, platforms, threaded=True)
        platforms.base_url = self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = loopback.serve(self._server)

    def close(self) -> None:
        self.platforms.stopping.set()
        loopback.stop(self._server, self._thread)
