"""Decoding uploaded notice files and normalising their punctuation (pure Python)."""

from __future__ import annotations

import re
import unicodedata


class NoticeInputError(ValueError):
    """The input is not text the parser can read; `code` is empty, binary or encoding."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030; refuse empty, binary or other input."""
    if not data or not data.strip():
        raise NoticeInputError("empty", "the file is empty")
    if b"\x00" in data[:4096]:
        raise NoticeInputError("binary", "the file is binary, not text (save the notice as .txt)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
        if controls > max(3, len(text) // 100):
            raise NoticeInputError("binary", "the file is binary, not text (save the notice as .txt)")
        return text
    raise NoticeInputError("encoding", "the text is neither UTF-8 nor GB18030")


def normalise_source(text: str) -> str:
    """The text a notice is identified by: the same notice always gives the same string.

    CRLF and CR become LF (browsers send a textarea back with CRLF; Windows files have it),
    NFKC folds full-width letters, digits and punctuation into their ordinary forms, and
    whitespace is trimmed at the end of every line and around the whole text. The stored
    SHA-256 (and so the duplicate check) is taken over this; the stored text stays as uploaded.

    Migration 0009_notice_previews holds a frozen copy that rehashes existing imports: change
    this only together with a migration that rehashes them again.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


_FULLWIDTH = str.maketrans(
    {"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "．": ".", "、": "、", "\u3000": " ", "\xa0": " "}
)

# Traditional characters as notices from Hong Kong, Macao, Taiwan or a converted page write them,
# each with its simplified form: the genre's vocabulary (巡察、整改、问题、黨組、審計…), the
# common surnames and the words around them. Only characters that are traditional forms alone
# are listed (著, 乾, 徵, 隻 … are also simplified characters and stay as written). Pairs of
# "traditional simplified", read by `to_simplified`.
TRADITIONAL_PAIRS = (
    "關关 於于 屆届 輪轮 組组 黨党 員员 會会 議议 導导 領领 責责 務务 實实 際际 進进 開开 據据 統统 對对 "
    "區区 縣县 廳厅 饋馈 見见 規规 範范 財财 資资 項项 購购 採采 監监 檢检 紀纪 風风 險险 設设 計计 劃划 "
    "專专 題题 問问 學学 習习 幹干 選选 們们 機机 構构 單单 個个 條条 況况 應应 當当 時时 間间 萬万 億亿 "
    "錢钱 額额 數数 與与 為为 爲为 從从 這这 將将 經经 過过 還还 沒没 來来 後后 長长 強强 嚴严 肅肃 堅坚 "
    "決决 壓压 層层 級级 體体 總总 書书 記记 處处 辦办 現现 佈布 發发 動动 頭头 標标 準准 確确 認认 識识 "
    "讓让 適适 錄录 檔档 號号 聯联 繫系 係系 電电 話话 郵邮 門门 織织 報报 審审 預预 執执 餘余 舉举 續续 "
    "鞏巩 歸归 繳缴 虧亏 損损 賬账 帳帐 稅税 費费 補补 貼贴 撥拨 轉转 變变 價价 廣广 東东 蘇苏 陽阳 華华 "
    "國国 圍围 園园 圖图 團团 陳陈 劉刘 張张 楊杨 黃黄 趙赵 吳吴 孫孙 鄭郑 馬马 龍龙 葉叶 羅罗 鄧邓 許许 "
    "謝谢 韓韩 馮冯 蔣蒋 蕭萧 種种 類类 隊队 農农 醫医 療疗 藥药 衛卫 產产 業业 師师 傳传 網网 絡络 視视 "
    "聽听 頻频 質质 優优 營营 運运 週周 齊齐 負负 擔担 爭争 顯显 獎奖 勵励 懲惩 罰罚 違违 貫贯 徹彻 綱纲 "
    "線线 綫线 針针 鬥斗 勢势 禮礼 節节 飲饮 車车 輛辆 駕驾 駛驶 樓楼 廠厂 場场 築筑 鐵铁 銀银 貸贷 債债 "
    "擴扩 讀读 寫写 詢询 評评 測测 驗验 證证 約约 託托 訂订 簽签 紙纸 權权 納纳 辯辩 護护 訴诉 訟讼 獄狱 "
    "偵侦 鎮镇 鄉乡 鄰邻 靈灵 願愿 態态 戰战 隨随 屬属 兒儿 親亲 熱热 愛爱 憂忧 慮虑 糧粮 飯饭 館馆 環环 "
    "災灾 慶庆 歷历 曆历 壞坏 畫画 劇剧 藝艺 術术 協协 調调 穩稳 積积 極极 難难 廢废 棄弃 擊击 擬拟 礎础 "
    "礙碍 獨独 夠够 漢汉 劑剂 濟济 繼继 貨货 勞劳 兩两 樣样 嗎吗 麼么 麽么 點点 階阶 盡尽 儘尽 僅仅 傷伤 "
    "偉伟 備备 償偿 儲储 內内 冊册 凍冻 剛刚 創创 勁劲 勝胜 參参 雙双 敘叙 喪丧 噸吨 圓圆 壇坛 壩坝 壽寿 "
    "夢梦 奪夺 奮奋 婦妇 寧宁 寶宝 尋寻 島岛 嶺岭 帥帅 帶带 幣币 幫帮 幾几 庫库 彈弹 彙汇 匯汇 徑径 復复 "
    "複复 憲宪 懷怀 戶户 掛挂 揚扬 換换 搶抢 擁拥 擇择 擾扰 攜携 敗败 敵敌 斷断 槍枪 樞枢 歡欢 歲岁 殘残 "
    "毀毁 氣气 漁渔 潔洁 澤泽 濃浓 灣湾 無无 煙烟 爐炉 牆墙 狀状 獲获 獻献 畢毕 盤盘 盜盗 盧卢 眾众 衆众 "
    "碼码 礦矿 禍祸 稱称 窮穷 競竞 筆笔 簡简 籌筹 籤签 糾纠 紅红 純纯 紛纷 細细 終终 結结 給给 絕绝 絲丝 "
    "綜综 綠绿 維维 緊紧 練练 緒绪 編编 緣缘 縮缩 績绩 繩绳 繪绘 罷罢 義义 聖圣 聞闻 聲声 職职 脅胁 脈脉 "
    "腦脑 臨临 興兴 艱艰 莊庄 蓋盖 薦荐 藍蓝 蘭兰 蟲虫 衝冲 裝装 製制 襲袭 覺觉 覽览 觀观 觸触 討讨 訓训 "
    "訪访 診诊 詐诈 詞词 試试 該该 詳详 誠诚 誤误 說说 誰谁 課课 談谈 請请 論论 諾诺 謀谋 講讲 譯译 豐丰 "
    "貝贝 貢贡 貧贫 販贩 貪贪 貴贵 賀贺 賓宾 賠赔 賣卖 賽赛 贊赞 贈赠 趕赶 跡迹 踐践 軍军 軌轨 軟软 較较 "
    "載载 輔辅 輕轻 輸输 轄辖 辭辞 連连 達达 遠远 遲迟 遷迁 遺遗 邊边 釋释 銷销 鋪铺 錯错 鍵键 鏈链 閉闭 "
    "閒闲 閱阅 闊阔 陣阵 陸陆 陰阴 隱隐 雜杂 離离 雲云 靜静 頁页 頂顶 順顺 須须 顧顾 飛飞 駐驻 驚惊 魚鱼 "
    "鮮鲜 鳥鸟 鳳凤 麗丽 麥麦 齡龄 並并 裡里 裏里 臺台 佔占 嚮向 誌志 註注 鬆松 纔才 蹤踪 覈核 儀仪 兌兑 "
    "凱凯 刪删 剝剥 勸劝 匱匮 廂厢 厲厉 啟启 啓启 喚唤 囑嘱 墊垫 壯壮 夾夹 奧奥 妝妆 娛娱 嬰婴 屜屉 岡冈 "
    "崗岗 幟帜 廁厕 廚厨 廬庐 彌弥 悅悦 惡恶 慣惯 憑凭 懇恳 戲戏 拋抛 捨舍 掃扫 撲扑 撐撑 擋挡 攔拦 攝摄 "
    "羣群 誡诫 頒颁 則则 汙污 賄贿 賂赂 濫滥 樂乐 僱雇 樹树 紮扎 傾倾 滿满 響响 雖虽 別别 舊旧 迴回 "
)
_SIMPLIFIED = {ord(pair[0]): pair[1] for pair in TRADITIONAL_PAIRS.split()}
# Quotation marks written the traditional way, and invisible characters a web page leaves.
_QUOTES = {"「": "“", "」": "”", "『": "‘", "』": "’", "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": ""}
_PARSE = {**_FULLWIDTH, **_SIMPLIFIED, **str.maketrans(_QUOTES), ord("\u2002"): " ", ord("\u2003"): " "}


def to_simplified(text: str) -> str:
    """`text` with the traditional characters of TRADITIONAL_PAIRS in their simplified form.

    One character for one character, so positions and lengths stay the same.
    """
    return text.translate(_SIMPLIFIED)


def normalise(line: str) -> str:
    """The line as the parser reads it: full-width and ASCII brackets, commas, colons and
    semicolons unified, traditional characters in their simplified form, 「」 as “”, invisible
    characters dropped, runs of spaces as one, trimmed."""
    line = unicodedata.normalize("NFKC", line) if any("０" <= c <= "９" for c in line) else line
    return re.sub(r"[ \t]+", " ", line.translate(_PARSE)).strip()
