"""Administrative divisions (GB/T 2260) of the cities whose funds the manager runs: reference
data (domain-rules §13.5), so that reports and pages name a city or district instead of
printing its code. A code not listed here is shown as it is."""

from __future__ import annotations

CITIES: dict[str, str] = {
    "440600": "佛山市",
    "441200": "肇庆市",
    "440200": "韶关市",
    "440500": "汕头市",
}

DISTRICTS: dict[str, str] = {
    # Foshan
    "440604": "禅城区",
    "440605": "南海区",
    "440606": "顺德区",
    "440607": "三水区",
    "440608": "高明区",
    # Zhaoqing
    "441202": "端州区",
    "441203": "鼎湖区",
    "441204": "高要区",
    "441223": "广宁县",
    "441224": "怀集县",
    "441225": "封开县",
    "441226": "德庆县",
    "441284": "四会市",
    # Shaoguan
    "440203": "武江区",
    "440204": "浈江区",
    "440205": "曲江区",
    "440222": "始兴县",
    "440224": "仁化县",
    "440229": "翁源县",
    "440232": "乳源瑶族自治县",
    "440233": "新丰县",
    "440281": "乐昌市",
    "440282": "南雄市",
    # Shantou
    "440507": "龙湖区",
    "440511": "金平区",
    "440512": "濠江区",
    "440513": "潮阳区",
    "440514": "潮南区",
    "440515": "澄海区",
    "440523": "南澳县",
}

REGION_NAMES: dict[str, str] = {**CITIES, **DISTRICTS}


def region_name(code: str | None) -> str:
    """The division's name (肇庆市, 端州区), or the code itself when it is not listed."""
    if not code:
        return ""
    return REGION_NAMES.get(code, code)


def city_short_name(code: str | None) -> str:
    """The city as people say it (肇庆 for 441200, also for its districts), or "" when the
    code is not one of the listed cities'."""
    if not code:
        return ""
    city = CITIES.get(f"{code[:4]}00", "")
    return city.removesuffix("市")
