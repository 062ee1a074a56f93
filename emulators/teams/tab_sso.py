"""Teams tab single sign-on, emulated: a stand-in for the Teams JS SDK, the token it hands a tab, and
the tenant's OpenID metadata and keys to check that token against.

What a tab does in Teams, and here:

1. The tab page loads the Teams JS SDK. Here: ``GET /_emulator/teams-js/MicrosoftTeams.min.js``, a
   small script with the same calls a tab makes (``app.initialize``, ``app.getContext``,
   ``authentication.getAuthToken``).
2. ``getAuthToken()`` returns an Entra ID access token for the app's API. Here the script asks
   ``POST /_emulator/sso/token`` (CORS-enabled: the tab is served from the bot's origin) and gets an
   RS256 JWT: ``aud`` = the app's resource (``TeamsEmulatorConfig.tab_sso_resource``), ``iss`` =
   ``{public_url}{tenant}/v2.0``, ``tid``, ``oid``, ``name``, ``preferred_username``, ``scp``
   ``access_as_user``, valid for an hour on the wall clock. The user is the person named by the
   page's ``emulatorUser`` query parameter (an Entra object id), else the first manager, else the
   first person of the tenant (Teams knows who is signed in; the emulator has to be told).
3. The server checks it with the tenant's metadata, as against ``login.microsoftonline.com``:
   ``GET /{tenant}/v2.0/.well-known/openid-configuration`` and ``GET /{tenant}/discovery/v2.0/keys``.

A driver can mint tokens with other claims for tests: ``POST /_emulator/sso/token`` with
``{"user", "audience", "tenant", "expires_in"}`` (any of them).
"""

from __future__ import annotations

import json

from aiohttp import web

from emulators.teams.keys import EMULATOR
from emulators.teams.signing import TAB_TOKEN_LIFETIME_S, TabTokenIssuer

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}

_SDK_STUB = """// Teams JS SDK stand-in served by the Go Live Bridge Teams emulator (tab sign-in only).
(function () {
  var EMULATOR = %(emulator)s;
  function user() {
    try { return new URL(window.location.href).searchParams.get("emulatorUser") || ""; }
    catch (e) { return ""; }
  }
  async function token() {
    var response = await fetch(EMULATOR + "_emulator/sso/token", {
      method: "POST",
      headers: {"Content-Type": "text/plain"},
      body: JSON.stringify({user: user()})
    });
    if (!response.ok) { throw new Error("resourceDisabled"); }
    return (await response.json()).token;
  }
  window.microsoftTeams = {
    app: {
      initialize: function () { return Promise.resolve(); },
      getContext: function () {
        return Promise.resolve({app: {host: {name: "Teams"}}, user: {id: user()}});
      }
    },
    authentication: {
      getAuthToken: function () { return token(); }
    }
  };
})();
"""


async def sdk_stub(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    script = _SDK_STUB % {"emulator": json.dumps(emulator.config.service_url)}
    return web.Response(
        text=script,
        content_type="application/javascript",
        headers={"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"},
    )


async def token_preflight(request: web.Request) -> web.StreamResponse:
    return web.Response(status=204, headers=CORS)


async def mint_token(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    try:
        raw = await request.text()
        body = json.loads(raw) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return web.json_response({"error": "the body must be JSON"}, status=400, headers=CORS)
    if not isinstance(body, dict):
        return web.json_response({"error": "the body must be a JSON object"}, status=400, headers=CORS)
    people = emulator.config.people
    wanted = str(body.get("user") or "").strip().lower()
    if wanted:
        person = next((p for p in people if p.aad_object_id.lower() == wanted), None)
        if person is None:
            return web.json_response({"error": "no such person in the tenant"}, status=404, headers=CORS)
    else:
        person = next((p for p in people if p.role == "manager"), people[0] if people else None)
    if person is None:
        return web.json_response({"error": "the tenant has nobody to sign in"}, status=404, headers=CORS)
    try:
        expires_in = int(body.get("expires_in", TAB_TOKEN_LIFETIME_S))
    except (TypeError, ValueError):
        return web.json_response({"error": "expires_in must be a number"}, status=400, headers=CORS)
    upn = person.email or ".".join(person.name.lower().split()) + "@example.org"
    token = emulator.tab_tokens.token(
        audience=str(body.get("audience") or emulator.config.tab_sso_resource),
        object_id=person.aad_object_id,
        name=person.name,
        upn=upn,
        tenant_id=str(body.get("tenant") or "") or None,
        expires_in=expires_in,
    )
    return web.json_response({"token": token}, headers=CORS)


async def tenant_openid_configuration(request: web.Request) -> web.StreamResponse:
    issuer: TabTokenIssuer = request.app[EMULATOR].tab_tokens
    if request.match_info["tenant"] != issuer.tenant_id:
        return web.json_response({"error": "invalid_tenant"}, status=400)
    return web.json_response(issuer.openid_configuration())


async def tenant_keys(request: web.Request) -> web.StreamResponse:
    issuer: TabTokenIssuer = request.app[EMULATOR].tab_tokens
    if request.match_info["tenant"] != issuer.tenant_id:
        return web.json_response({"error": "invalid_tenant"}, status=400)
    return web.json_response(issuer.jwks())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_emulator/teams-js/MicrosoftTeams.min.js", sdk_stub)
    app.router.add_route("OPTIONS", "/_emulator/sso/token", token_preflight)
    app.router.add_post("/_emulator/sso/token", mint_token)
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", tenant_openid_configuration)
    app.router.add_get("/{tenant}/discovery/v2.0/keys", tenant_keys)


__all__ = ["TabTokenIssuer", "add_routes"]
