"""Drives Cairn with the real atlassian-python-api (4.0.x or 5.0.x).

Run by tests/tests/all/rest_clients.rs with CAIRN_URL, CAIRN_USER,
CAIRN_PASSWORD and CAIRN_TOKEN set. Every step prints its name, so a
failure says exactly which client call broke. Exits non-zero on failure.
"""
import io
import os
import sys

import atlassian
from atlassian import Confluence

URL = os.environ["CAIRN_URL"]
MAJOR = int(atlassian.__version__.split(".")[0]) if hasattr(atlassian, "__version__") else int(
    __import__("importlib.metadata").metadata.version("atlassian-python-api").split(".")[0])

basic = Confluence(url=URL, username=os.environ["CAIRN_USER"], password=os.environ["CAIRN_PASSWORD"], cloud=False)
bearer = Confluence(url=URL, token=os.environ["CAIRN_TOKEN"], cloud=False)


def step(name):
    print(f"--- {name}", flush=True)


def page_of(result):
    """get_page_by_title returns the page in 4.x and the paged dict in 5.x."""
    if result is None:
        return None
    if "results" in result:
        return result["results"][0] if result["results"] else None
    return result


def main():
    c = basic
    step("create_space / get_space / get_all_spaces")
    c.create_space("PY", "Python Space")
    sp = c.get_space("PY", expand="description.plain,homepage")
    assert sp["key"] == "PY" and sp["name"] == "Python Space", sp
    assert "homepage" in sp and sp["homepage"]["id"], sp
    spaces = c.get_all_spaces(start=0, limit=50)
    assert any(s["key"] == "PY" for s in spaces["results"]), spaces

    step("create_page (root and child) with the bearer token")
    root = bearer.create_page("PY", "Root Page", "<p>root body</p>")
    assert root["id"] and isinstance(root["id"], str), root
    assert root["version"]["number"] == 1, root
    assert root["space"]["key"] == "PY"
    child = bearer.create_page("PY", "Child Page", "<p>child</p>", parent_id=root["id"])
    assert child["ancestors"][-1]["id"] == root["id"], child["ancestors"]

    step("get_page_by_title / get_page_by_id / page_exists / get_page_id")
    p = page_of(c.get_page_by_title("PY", "Root Page", expand="body.storage,version"))
    assert p and p["id"] == root["id"], p
    assert p["body"]["storage"]["value"] == "<p>root body</p>", p
    byid = c.get_page_by_id(root["id"], expand="body.storage,version,space,ancestors,history")
    assert byid["title"] == "Root Page" and byid["ancestors"] == [], byid
    assert byid["history"]["lastUpdated"]["number"] == 1, byid["history"]
    assert c.page_exists("PY", "Root Page")
    assert not c.page_exists("PY", "No Such Page")
    assert c.get_page_id("PY", "Child Page") == child["id"]
    assert page_of(c.get_page_by_title("PY", "No Such Page")) is None

    step("update_page: a real change makes version 2")
    r = c.update_page(root["id"], "Root Page", "<p>root body, revised</p>", version_comment="revise")
    assert r["version"]["number"] == 2, r["version"]
    step("update_page: a no-op makes no version")
    c.update_page(root["id"], "Root Page", "<p>root body, revised</p>")
    again = c.get_page_by_id(root["id"], expand="version")
    assert again["version"]["number"] == 2, again["version"]
    hist = c.history(root["id"])
    assert hist["lastUpdated"]["number"] == 2 and hist["lastUpdated"]["message"] == "revise", hist

    step("update_page with parent_id moves the page")
    other = c.create_page("PY", "Other Parent", "")
    c.update_page(child["id"], "Child Page", "<p>child moved</p>", parent_id=other["id"])
    anc = c.get_page_ancestors(child["id"])
    assert anc[-1]["id"] == other["id"], anc

    step("update_or_create (create, then update)")
    made = c.update_or_create(other["id"], "Made By Client", "<p>one</p>")
    assert made["title"] == "Made By Client"
    if MAJOR >= 5:
        # 5.x finds the existing child with CQL (parent = N AND space = "K");
        # the index is near-real-time, so give it a moment.
        import time
        for _ in range(100):
            found = c.get("rest/api/content/search", params={"cql": f'parent={other["id"]} AND space="PY"'})
            if any(r["title"] == "Made By Client" for r in found["results"]):
                break
            time.sleep(0.05)
    made2 = c.update_or_create(other["id"], "Made By Client", "<p>two</p>")
    assert made2["version"]["number"] == 2, made2

    step("child pages with paging (30 children through _links.next)")
    for i in range(30):
        c.create_page("PY", f"Kid {i:02}", "", parent_id=root["id"])
    kids = list(c.get_page_child_by_type(root["id"], type="page"))
    assert len(kids) == 30, len(kids)
    assert kids[0]["title"] == "Kid 00" and kids[-1]["title"] == "Kid 29", [k["title"] for k in kids[:3]]
    ids = list(c.get_child_id_list(root["id"]))
    assert len(ids) == 30
    one_page = c.get_page_child_by_type(root["id"], type="page", start=0, limit=10)
    assert len(one_page) == 10
    if MAJOR >= 5:
        all_pages = list(c.get_all_pages_from_space("PY"))
    else:
        all_pages = c.get_all_pages_from_space("PY", start=0, limit=100)
    assert len(all_pages) >= 33, len(all_pages)

    step("labels")
    c.set_page_label(root["id"], "alpha")
    c.set_page_label(root["id"], "Beta")
    labels = c.get_page_labels(root["id"])
    names = sorted(l["name"] for l in labels["results"])
    assert names == ["alpha", "beta"], names
    c.remove_page_label(root["id"], "alpha")
    names = [l["name"] for l in c.get_page_labels(root["id"])["results"]]
    assert names == ["beta"], names

    step("attachments: upload, new version, list, download")
    c.attach_content(b"first bytes", name="notes.txt", content_type="text/plain", page_id=root["id"])
    c.attach_content(b"second bytes!", name="notes.txt", content_type="text/plain", page_id=root["id"])
    atts = c.get_attachments_from_content(root["id"])
    assert atts["size"] == 1, atts
    att = atts["results"][0]
    assert att["title"] == "notes.txt" and att["version"]["number"] == 2, att
    assert att["_links"]["download"].startswith("/download/attachments/"), att["_links"]
    got = c.download_attachments_from_page(root["id"], to_memory=True)
    data = got["notes.txt"].getvalue() if hasattr(got["notes.txt"], "getvalue") else got["notes.txt"]
    assert data == b"second bytes!", data
    c.attach_content(b"\x89PNG fake", name="pic.png", content_type="image/png", page_id=root["id"])
    filtered = c.get_attachments_from_content(root["id"], filename="pic.png")
    assert filtered["size"] == 1 and filtered["results"][0]["title"] == "pic.png", filtered

    step("comments")
    cm = c.add_comment(root["id"], "<p>nice page</p>")
    assert cm["type"] == "comment" and cm["id"], cm
    comments = c.get_page_comments(root["id"], expand="body.storage")
    assert comments["size"] == 1 and "nice page" in comments["results"][0]["body"]["storage"]["value"], comments

    step("users, restrictions, convert")
    u = c.get_user_details_by_username(os.environ["CAIRN_USER"])
    assert u["username"] == os.environ["CAIRN_USER"] and u["displayName"], u
    rs = c.get_all_restrictions_for_content(root["id"])
    assert "read" in rs and "update" in rs, rs
    view = c.convert_storage_to_view("<p><strong>x</strong><script>alert(1)</script></p>")
    assert "<strong>x</strong>" in view["value"] and "script" not in view["value"], view

    step("content properties")
    made = c.set_page_property(root["id"], {"key": "py-prop", "value": {"n": 1, "tags": ["a"]}})
    assert made["key"] == "py-prop" and made["version"]["number"] == 1, made
    got = c.get_page_property(root["id"], "py-prop")
    assert got["value"] == {"n": 1, "tags": ["a"]}, got
    upd = c.update_page_property(
        root["id"], {"key": "py-prop", "value": {"n": 2}, "version": {"number": 2, "minorEdit": False}})
    assert upd["version"]["number"] == 2 and upd["value"] == {"n": 2}, upd
    for i in range(12):
        c.set_page_property(root["id"], {"key": f"bulk-{i:02}", "value": i})
    props = c.get_page_properties(root["id"])
    if MAJOR >= 5:  # every property, paged by the client (create_page sent two)
        keys = [p["key"] for p in props]
        assert keys == sorted(set(keys)), keys
        assert {"py-prop", "content-appearance-published"} | {f"bulk-{i:02}" for i in range(12)} <= set(keys), keys
    else:  # one page of Confluence's default size
        assert props["size"] == 10 and "next" in props["_links"], props
    try:
        c.update_page_property(root["id"], {"key": "py-prop", "value": 3, "version": {"number": 2}})
        raise AssertionError("a stale property version was accepted")
    except AssertionError:
        raise
    except Exception:
        pass
    c.delete_page_property(root["id"], "py-prop")
    try:
        c.get_page_property(root["id"], "py-prop")
        raise AssertionError("a deleted property is still readable")
    except AssertionError:
        raise
    except Exception:
        pass

    step("version delete (remove_page_history) and restore")
    vp = c.create_page("PY", "Versions", "<p>v1</p>")
    c.update_page(vp["id"], "Versions", "<p>v2</p>")
    c.update_page(vp["id"], "Versions", "<p>v3</p>")
    c.remove_page_history(vp["id"], 2)
    vs = c.get(f"rest/api/content/{vp['id']}/version")
    assert [v["number"] for v in vs["results"]] == [3, 1], vs
    r = c.post(f"rest/api/content/{vp['id']}/version",
               data={"operationKey": "restore", "params": {"versionNumber": 1, "message": "py restore"}})
    assert r["number"] == 4 and r["message"] == "py restore", r
    back = c.get_page_by_id(vp["id"], expand="body.storage")
    assert back["body"]["storage"]["value"] == "<p>v1</p>", back

    if MAJOR >= 5:
        step("set_restrictions_for_content / update_space / set_space_homepage")
        me = os.environ["CAIRN_USER"]
        c.set_restrictions_for_content(vp["id"], [
            {"operation": "update", "restrictions": {"user": [{"type": "known", "username": me}], "group": []}}])
        rs = c.get_all_restrictions_for_content(vp["id"])
        names = [u["username"] for u in rs["update"]["restrictions"]["user"]["results"]]
        assert names == [me], rs
        c.update_space("PY", {"name": "Python Space Renamed"})
        c.set_space_homepage("PY", child["id"])
        sp = c.get_space("PY", expand="description.plain,homepage")
        assert sp["name"] == "Python Space Renamed" and sp["homepage"]["id"] == child["id"], sp

    step("remove: to trash, then purge")
    victim = c.create_page("PY", "Victim", "<p>bye</p>")
    c.remove_page(victim["id"])
    assert not c.page_exists("PY", "Victim")
    c.remove_page_from_trash(victim["id"])
    try:
        c.get_page_by_id(victim["id"], status="trashed")
        raise AssertionError("purged page still readable")
    except AssertionError:
        raise
    except Exception:
        pass

    step("errors carry Confluence's messages")
    try:
        c.create_page("PY", "Root Page", "<p>dup</p>")
        raise AssertionError("duplicate title accepted")
    except AssertionError:
        raise
    except Exception as e:
        assert "already exists" in str(e), str(e)
    try:
        c.update_page(root["id"], "Root Page", "<p>broken<b></p>")
        raise AssertionError("ill-formed body accepted")
    except AssertionError:
        raise
    except Exception as e:
        # 5.x wraps the HTTPError; the server's message is in .reason.
        text = str(e) + str(getattr(e, "reason", ""))
        assert "well-formed" in text and "line 1" in text, text
    print("ALL OK", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report and fail
        import traceback
        traceback.print_exc()
        sys.exit(1)
