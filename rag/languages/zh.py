"""What the assistant knows of Chinese (both scripts): the words and patterns of its
questions and of the sentences that answer them.

Patterns are regular-expression sources, matched against text in either script (both
forms are listed where they differ); :mod:`rag.languages` compiles them together with
the English ones. Word lists are in Simplified script, the form text takes once
normalised for search (rag.lexical.normalise).
"""

from __future__ import annotations

# words too common to search for (after normalising to Simplified)
STOP_WORDS = frozenset(
    "的 了 和 与 及 在 是 于 将 也 为 之 等 并 而 或 就 都 以 对 吗 呢 吧 啊 么 "
    "什么 哪里 哪些 哪个 如何 怎么 怎样 为什么 请问 是否 有 个 这 那 其".split()
)

# what is left of a question such as "那是誰？" once stop words are out: words that ask
QUESTION_WORDS = frozenset("时候 谁 多久 一天 哪天 几号 几月 几年 多少".split())

# nouns that name the kind of answer asked for (名字, 原因), not a topic the documents
# must mention
ANSWER_KIND_NOUNS = frozenset(
    "名字 名称 原因 理由 时间 日期 地点 地方 事情 内容 目的 结果 人数 数量 情况 细节".split()
)

# a question that points back to the conversation ("那什麼時候？", "他們呢？")
POINTS_BACK = (
    r"^(?:那|那麼|那么|還有|还有|而|它|他|她|其|該|该|此|這|这)"
    r"|(?:它|他們|他们|她們|她们|那裡|那里|那邊|那边|那時|那时|這個|这个|那個|那个"
    r"|這些|这些|那些|上述|其中|藉此|借此|為此|为此|對此|对此)"
    r"|呢[？?]?$"
)

# words that frame a question whatever it names (for telling its language)
FRAME = r"什麼|什么|哪|誰|谁|嗎|吗|呢|幾|几|多少|如何|怎麼|怎么|是|的|在|有|了"

GREETING = r"你好|您好|妳好|大家好|嗨|哈囉|哈啰|哈喽|早安|午安|晚安|早上好|下午好|晚上好"
THANKS = r"(?:謝謝|谢谢|多謝|多谢|感謝|感谢)(?:你|您|妳)?"

# a question about the document itself: its author, title or topic
ABOUT_THE_DOCUMENT = (
    r"作者|誰寫|谁写|撰寫|撰写|標題|标题"
    r"|(?:這|这|本)(?:篇|份)(?:文章|報告|报告|文件)?.{0,6}(?:談|谈|講|讲|說|说|關於|关于|主題|主题|內容|内容|重點|重点)"
    r"|(?:文章|本文)(?:的)?(?:主要|主題|主题|大意|重點|重点|在談|在谈|在講|在讲)"
)

# … and of those, one asking what it says ("這篇文章的重點是什麼？"), not who wrote it
SUMMARY = r"談|谈|講|讲|說|说|關於|关于|主題|主题|內容|内容|重點|重点|大意|主要|摘要|總結|总结"

# what ends the name an English gloss in brackets follows: in 於舊金山的莫斯科康會議中心
# (Moscone Center) the gloss names 莫斯科康會議中心 alone (normalised: Simplified)
GLOSS_BREAKS = "的之于在和与及或、，,;；：:。"

NUMERAL = r"(?:\d+(?:[.,]\d+)?|[一二兩两三四五六七八九十百千萬万億亿]+)"

# how a question asks for each kind of answer (see rag.answer_types)
ASKS: dict[str, str] = {
    "author": r"誰寫|谁写|作者是|(?:撰寫|撰写)(?:者|人)",
    "chair": r"主席|主持|(?:誰|谁)(?:擔任|担任)",
    "money": r"多少錢|多少钱|經費|经费|預算|预算|花了多少",
    "people": r"多少(?:個人|个人|人|位|名)|(?<!第)[幾几](?:個人|个人|人|位|名)",
    "year": r"哪一?年",
    "date": (
        r"什麼時候|什么时候|何時|何时|哪一?天|哪一?日|幾號|几号|幾月|几月|日期|多久"
        r"|多長時間|多长时间"
    ),
    "share": r"多少比例|百分之幾|百分之几",
    "count": r"多少|(?<!哪)[幾几](?:個|个|場|场|項|项|家|國|国|次|種|种|大)",
    "place": (
        # not "聚焦在哪些議題上" nor "重點放在哪裡" (on which topics)
        r"(?<!放在)(?:哪裡|哪里|哪兒|哪儿)|(?<!放)在哪(?!些)"
        r"|哪[個个座]?(?:城市|州|國家|国家|地方|場地|场地|地點|地点)"
        r"|哪(?:些|[幾几一]?[個个])?(?:會員)?(?:經濟體|经济体)"  # economies are named by place
    ),
    "statement": (  # what someone said, not what a text says
        r"(?<!文章|文件|報告|报告|本文|作者|全文)(?:說|说|講|讲)了?(?:什麼|什么|哪些)"
        r"|(?:演講|演讲|講話|讲话|致詞|致词)的?(?:內容|内容)"
    ),
    "outcome": (
        r"結論|结论|(?:通過|通过|達成|达成|產出|产出|簽署|签署)了?(?:什麼|什么|哪)"
        r"|(?:什麼|什么|哪些|哪項|哪项)(?:具體|具体)?的?(?:建議|建议)"
    ),
    "items": (  # "哪六個", "三大優先領域是什麼"
        r"(?<![第\d])(?:[2-9]|[二兩两三四五六七八九十])\s*(?:大|項|项|個|个|份|條|条|種|种)"
    ),
}

# what a sentence holding each kind of answer says
HOLDS: dict[str, str] = {
    "author": r"作者|記者|记者|撰文|文[／/]|研究員|研究员",
    "chair": r"主席|主持|擔任|担任",
    "money": rf"{NUMERAL}\s*(?:[萬万億亿]?(?:元|美元|美金|圓))",
    "people": rf"{NUMERAL}\s*(?:人|名|位)",
    "year": r"\d{1,4}\s*年|[〇零一二三四五六七八九十百千]+年|世紀|世纪|年代",
    "date": (  # a day, or a length of time ("13小時", "八千多年前": how long, how long ago)
        rf"{NUMERAL}\s*(?:月|日|號|号|週|周|星期|天)"
        rf"|{NUMERAL}\s*多?\s*(?:個|个)?\s*(?:小時|小时|鐘頭|钟头|分鐘|分钟|秒|年前|年之久)"
        rf"|{NUMERAL}\s*(?:點|点)(?!\s*[一二兩两三四五六七八九\d]\s*(?:億|亿|萬|万|倍))"  # 夜裡10點
    ),
    "share": r"百分之|[一二兩两三四五六七八九]成",
    "count": (
        r"(?<![第一二兩两三四五六七八九十百千萬万億亿])"  # not an ordinal ("第三次")
        r"[一二兩两三四五六七八九十百千萬万億亿]+\s*[餘余多]?"
        r"[個个場场項项位名家國国次種种大份週周倍成件條条本頭头隻座張张輛辆架艘棵株枚顆颗篇屆届隊队]"
    ),
    "place": r"會議中心|会议中心|飯店|饭店|會場|会场",
    "statement": (  # reported speech; 演說 (a speech) is not
        r"表示|指出|強調|强调|宣布|宣佈|提到|呼籲|呼吁|(?<!演)(?:說|说)(?!明)|[：:]\s*[「“\"]"
    ),
    "outcome": (  # a decision, an agreement, a finding
        r"通過|通过|達成|达成|產出|产出|發表(?!演)|发表(?!演)|簽署|签署|同意|共識|共识|決定|决定"
        r"|結論|结论|建議|建议|顯示|显示"
    ),
}

# a four-digit number is a year before 年 ("2009年"), a decade before 年代; two years with
# one of YEARS_TO between them are a span ("1955年至1997年")
YEAR_AFTER = r"\s*年(?!代)"
DECADE_AFTER = r"\s*年代"
YEARS_TO = r"至|到|－|~|～"

# a sentence that denies what it says ("該目標未獲所有經濟體的共識"): negating words, not
# compounds that merely hold one (未來, 無碳, 不過, 不同, 不斷, 不少)
NEGATION = (
    r"未(?:獲|获|能|曾|達|达|經|经|有|被|予|列|得|再|見|见|通過|通过|成|果)|尚未|並未|并未|從未|从未"
    r"|沒有|没有|並非|并非|並不|并不|不是|不會|不会|不能|不可|不得|不願|不愿|不予|不再|不被"
    r"|無法|无法|拒絕|拒绝|否決|否决"
)

# a footnote mark's words in brackets after a word ("[來源請求]", "[註 3]"), or a heading's
# edit link as a copied page keeps it ("歷史[編輯]")
FOOTNOTE_WORDS = (
    r"來源請求|来源请求|需要引用|需要檢證|需要检证|(?:註|注|注釋|注释)\s?\d{1,3}"
    r"|編輯|编辑|編輯原始碼|编辑源代码"
)


_DIGITS = "零一二三四五六七八九"


def numeral(n: int) -> str:
    """``n`` (0-99) in Chinese numerals, as a pope's or king's number is written: 16 ->
    十六, 23 -> 二十三; larger numbers in Arabic digits."""
    if not 0 <= n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")
