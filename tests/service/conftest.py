"""Fixtures shared by the service tests: the organization's operator and a fresh project."""

from __future__ import annotations

import pytest

from pinfold.projects import projects
from tests.service.helpers import operator


@pytest.fixture
def admin(ctx):
    return operator(ctx)


@pytest.fixture
def project(ctx, admin):
    return projects.create(ctx, admin, {"Name": "service-test"})["Id"]
