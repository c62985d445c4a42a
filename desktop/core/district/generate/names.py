"""Invented names and the Chinese labels of asset kinds: road names after cities and
provinces, community names, and the labels camera, hotspot and zone names are made of."""
from __future__ import annotations

from typing import Sequence

import numpy as np

# Road names after Chinese cities and provinces, the way many coastal cities name streets.
_ROAD_BASES = (
    "南京 上海 北京 广州 杭州 苏州 福州 厦门 汕头 徐州 扬州 泰州 温州 宁波 绍兴 嘉兴 湖州 金华 "
    "台州 合肥 芜湖 安庆 武汉 长沙 南昌 九江 郑州 洛阳 开封 太原 大同 西安 延安 兰州 西宁 银川 "
    "成都 重庆 贵阳 昆明 南宁 桂林 海口 拉萨 长春 吉林 沈阳 大连 鞍山 抚顺 天津 保定 承德 济南 "
    "烟台 威海 潍坊 淄博 临沂 日照 泰安 济宁 聊城 德州 滨州 东营 菏泽 枣庄 莱阳 黄县 宁夏 云南 "
    "贵州 四川 湖南 湖北 江西 浙江 福建 广西 山西 陕西 甘肃 新疆 西藏 辽宁 黑龙江 内蒙古 江苏 "
    "安徽 河南 河北 山东 台湾 香港 澳门 珠海 深圳 东莞 佛山 惠州 汕尾 湛江 茂名 常州 无锡 镇江 "
    "南通 盐城 淮安 宿迁 连云港 蚌埠 阜阳 宜昌 襄阳 荆州 岳阳 衡阳 株洲 赣州 景德镇 秦皇岛 唐山"
).split()
_NUMERALS = "二三四五六七八九"
_COMMUNITY_A = "东 西 南 北 新 福 安 康 和 兴 华 金 银 翠 青 海 山 湖 泉 松 柏 桂 兰 明 光 春 长 永 宁 嘉 瑞 祥 丰 泰 德 文 秀 云 星".split()
_COMMUNITY_B = "园 苑 山 湖 岭 坊 里 桥 湾 港 泉 林 城 庄 门 台 亭 阳 宁 平 源 峰 溪 岛 关 馨 悦 景".split()
_KIND_LABEL = {"hd": "高清", "checkpoint": "卡口", "coastal": "海岸", "ptz": "高点云台", "radar": "视频雷达"}
_HOT_LABEL = {"station": "站", "commercial": "商圈", "scenic": "景区"}
_CASE_LABEL = {"snatch_pickpocket": "两抢扒窃", "street_theft": "街面盗窃", "burglary": "入室盗窃"}


def _unique_names(bases: Sequence[str], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct names from a shuffled pool; numbered variants ("南京二") once it runs out."""
    pool = list(bases)
    rng.shuffle(pool)
    out = list(pool[:n])
    k = 0
    while len(out) < n:
        num = _NUMERALS[k // len(pool) % len(_NUMERALS)] + ("" if k // len(pool) < len(_NUMERALS) else str(k))
        out.append(pool[k % len(pool)] + num)
        k += 1
    return out


def _community_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct community names ("福园社区"), drawn like :func:`_unique_names`."""
    combos = [a + b for a in _COMMUNITY_A for b in _COMMUNITY_B if a != b]
    return [s + "社区" for s in _unique_names(combos, n, rng)]
