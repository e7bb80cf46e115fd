"""Security schemes for the OpenAPI document (drf-spectacular cannot infer custom auth)."""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "fundmgr.ground.accounts.authentication.ApiKeyAuthentication"
    name = "institutionApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _("合作机构系统调用：`Authorization: Api-Key <key>`（由管理人签发，哈希存储）"),
        }


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "fundmgr.ground.accounts.authentication.TokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                "工作人员与监管用户：`Authorization: Token <token>`（python manage.py issue_token 签发）"
            ),
        }
