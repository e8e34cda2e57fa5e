"""Deleting every webhook endpoint of a workspace in the caller's transaction (an
ownership transfer: the former owner knows the URLs and the signing secrets).

The endpoint rows go, and with them every row that refers to an endpoint (its cursors,
its recorded attempts, anything queued for it): found from the tables' foreign keys,
so a table added for the dispatcher is covered without being named here. The endpoint
rows are locked first: an attempt being recorded finishes before its rows are deleted,
or finds its endpoint gone (store/webhooks.py) and its dispatcher stops delivering it.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roomchat.store.tables import metadata, webhooks


def _referring() -> list[tuple[Table, Column[int]]]:
    """Each (table, column) whose foreign key names an endpoint."""
    return [
        (table, fk.parent)
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table is webhooks
    ]


async def delete_workspace_webhooks(conn: AsyncConnection, workspace_id: int) -> int:
    """Delete the workspace's endpoints and what refers to them; how many endpoints."""
    endpoints = select(webhooks.c.id).where(webhooks.c.workspace_id == workspace_id)
    await conn.execute(endpoints.with_for_update())
    for table, column in _referring():
        await conn.execute(delete(table).where(column.in_(endpoints)))
    deleted = await conn.execute(delete(webhooks).where(webhooks.c.workspace_id == workspace_id))
    return int(deleted.rowcount)
