"""A small FastAPI app whose OpenAPI 3.1 description is `fastapi.json` beside this file.

Regenerate with `pip install fastapi==0.115.14 && python3 fastapi_app.py > fastapi.json`.
"""
import json
from datetime import datetime
from enum import Enum
from typing import Literal, Optional
from uuid import UUID

from fastapi import FastAPI, Header, HTTPException, Path, Query
from pydantic import BaseModel, EmailStr, Field

app = FastAPI(title="Team directory", version="1.0.0")


class Role(str, Enum):
    admin = "admin"
    member = "member"


class UserIn(BaseModel):
    email: str = Field(pattern=r"^[^@]+@[^@]+$", max_length=120)
    name: str = Field(min_length=1, max_length=60)
    role: Role = Role.member
    age: Optional[int] = Field(default=None, ge=13, lt=130)
    tags: list[str] = Field(default_factory=list, max_length=5)
    kind: Literal["person"] = "person"


class User(UserIn):
    id: UUID
    created_at: datetime
    manager: Optional["User"] = None


class Page(BaseModel):
    items: list[User]
    total: int = Field(ge=0)
    next_cursor: Optional[str] = None


@app.post("/users", status_code=201, response_model=User)
def create_user(user: UserIn, x_request_id: Optional[str] = Header(default=None)) -> User:
    raise HTTPException(501)


@app.get("/users", response_model=Page)
def list_users(
    limit: int = Query(default=20, ge=1, le=100),
    role: Optional[Role] = None,
    q: Optional[str] = Query(default=None, max_length=50),
) -> Page:
    raise HTTPException(501)


@app.get("/users/{user_id}", response_model=User)
def read_user(user_id: UUID = Path()) -> User:
    raise HTTPException(501)


@app.delete("/users/{user_id}", status_code=204)
def delete_user(user_id: UUID) -> None:
    raise HTTPException(501)


if __name__ == "__main__":
    print(json.dumps(app.openapi(), indent=2))
