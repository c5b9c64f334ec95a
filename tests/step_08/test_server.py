"""Step 08 against a real uvicorn server: the README's /retry example, through the app."""

import httpx


async def test_the_readme_retry_example_works_through_the_app_itself(server_url: str) -> None:
    # The inner URL's ?, & and = are percent-encoded, as in the README's curl line.
    inner = f"{server_url}/upstream/flaky%3Ffail%3D2%26key%3Dreadme"
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
        response = await client.get(f"/retry/{inner}")
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "ok after 2 failures for readme"
