from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BooksConfig(AppConfig):
    name = "fundmgr.top.books"
    label = "books"
    verbose_name = _("台账导入导出")
