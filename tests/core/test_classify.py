import pytest

from plugin.classify import Lexicon, classifier_for, detect_language, fold


def test_fold_ignores_case_and_accents():
    assert fold("Café CRÈME, Straße") == "cafe creme, strasse"


def test_lexicon_matches_whole_words_and_marked_stems():
    lexicon = Lexicon({"crash": {"en": ("crash*", "bug")}, "ads": {"en": ("ads",)},
                       "delivery": {"en": ("late delivery", "delivery")},
                       "quality": {"es": ("moho",)}})
    assert lexicon.match(fold("It CRASHES and crashed again")) == ["crash"]
    assert lexicon.match(fold("the roads were closed")) == []
    assert lexicon.match(fold("late   delivery, bad delivery")) == ["delivery"]
    # A word is not a prefix: golf-cart "buggy" is no software bug, Indonesian "mohon"
    # (please) is no Spanish "moho" (mould).
    assert lexicon.match(fold("The buggy rides were fun")) == []
    assert lexicon.match(fold("Mohon diperbaiki ya")) == []
    assert lexicon.match(fold("Había moho en el pan")) == ["quality"]


def test_japanese_terms_match_inside_text_and_arabic_takes_particles():
    lexicon = Lexicon({"crash": {"ja": ("落ちる",), "ar": ("يعلق",)},
                       "quality": {"ar": ("بارد",)}})
    assert lexicon.match(fold("アプリがすぐ落ちる")) == ["crash"]
    assert lexicon.match(fold("والتطبيق يعلق دائما")) == ["crash"]
    assert lexicon.match(fold("الأكل كان والبارد")) == ["quality"]
    assert lexicon.match(fold("البرد شديد")) == []


def test_most_mentioned_category_first():
    lexicon = Lexicon({"a": {"en": ("slow",)}, "b": {"en": ("rude",)}})
    assert lexicon.match("rude and slow and rude") == ["b", "a"]


@pytest.mark.parametrize("text, language", [
    ("The delivery was two hours late and nobody called me.", "en"),
    ("El pedido llegó tarde y la tarta estaba aplastada.", "es"),
    ("Die App stürzt ständig ab, wenn ich mich anmelde.", "de"),
    ("La livraison est arrivée en retard et le gâteau était écrasé.", "fr"),
    ("A entrega chegou atrasada e o bolo veio esmagado.", "pt"),
    ("La consegna è arrivata in ritardo e la torta era schiacciata.", "it"),
])
def test_detects_the_language_of_the_text(text, language):
    assert detect_language(text)[0] == language


@pytest.mark.parametrize("text, language", [
    ("配達が1時間も遅れて、料理が冷めていました。", "ja"),
    ("التطبيق لا يعمل بعد التحديث", "ar"),
    ("ایپ بہت سست ہے اور بار بار بند ہو جاتی ہے", "ur"),
    ("অ্যাপটি খুব ধীর", "bn"),
    ("ऐप बहुत धीमा है", "hi"),
    ("배달이 너무 늦었어요", "ko"),
    ("Доставка опоздала на час", "ru"),
    ("Tempatnya bersih, tapi antrean tiketnya panjang sekali.", "id"),
    ("Sipariş iki saat geç geldi ve yemek soğuktu.", "tr"),
    ("De bezorging was erg laat en het eten was koud.", "nl"),
])
def test_scripts_and_the_policy_languages(text, language):
    assert detect_language(text, languages=("en", "es", "de", "fr", "pt", "it", "nl", "id",
                                            "tr", "ja", "ar"))[0] == language


def test_hinglish_is_recognised_as_romanized_hindi():
    assert detect_language("yaar ye app bahut bekar hai, paise wapas karo")[0] == "hi"


def test_short_text_uses_the_platform_hint_then_nothing():
    assert detect_language("bad") == (None, 0.0)
    assert detect_language("Slecht", "nl") == ("nl", 0.0)


def test_declared_language_only_breaks_ties():
    assert detect_language("", "pt-BR") == ("pt", 0.0)
    assert detect_language("Die App stürzt ständig ab, wenn ich mich anmelde.", "en")[0] == "de"


@pytest.mark.parametrize("text, reason", [
    ("My lawyer will be in touch about this.", "legal"),
    ("Mi abogado se pondrá en contacto con ustedes.", "legal"),
    ("Ich werde meinen Anwalt einschalten.", "legal"),
    ("Mon avocat va vous contacter.", "legal"),
    ("Vou falar com o meu advogado.", "legal"),
    ("I got food poisoning after eating the quiche.", "injury"),
    ("Me intoxiqué con la comida, terminé en urgencias.", "injury"),
    ("The staff were openly racist to my family.", "discrimination"),
    ("Someone hacked my account and used my card.", "security"),
    ("I want to kill myself, nothing works.", "self_harm"),
    ("The nurse was negligent and almost killed my son.", "injury"),
    ("The delivery man asked my wife inappropriate questions.", "sexual"),
    ("After my review I got doxxing, harassment and even death threats.", "harassment"),
    ("A delivery driver scammed me and kept the cash.", "scam"),
    ("They made a comment about my headscarf and refused to serve me.", "discrimination"),
    ("This app is grabbing data off the phone.", "security"),
    ("Kurirnya melakukan pelecehan ke adik saya.", "harassment"),
    ("配達員にセクハラ発言をされました。", "sexual"),
    ("المندوب هددني بعد ما اشتكيت", "harassment"),
    ("Çocuğum zehirlendi, hastaneye kaldırıldı.", "injury"),
])
def test_escalation_reasons(policy, make_review, text, reason):
    classification = classifier_for(policy).classify(make_review(text=text))
    assert reason in classification.escalation_reasons


@pytest.mark.parametrize("text", [
    "Fraud company, three weeks and still no refund.",
    "Killer app, honestly the best one out there.",
    "I'll die of boredom waiting for this page to load.",
    "Scam app, everything costs money now.",
    "Rumah sakit ini antreannya lama sekali.",
])
def test_insults_and_hyperbole_are_not_escalations(policy, make_review, text):
    assert classifier_for(policy).classify(make_review(text=text)).escalation_reasons == []


@pytest.mark.parametrize("text, reason", [
    ("My lawyer will be in touch about this.", "legal"),
])
def test_escalation_reasons(policy, make_review, text, reason):
    classification = classifier_for(policy).classify(make_review(text=text))
    assert reason in classification.escalation_reasons


def test_categories_across_languages(policy, make_review):
    classify = classifier_for(policy).classify
    assert "crash" in classify(make_review(text="The app keeps crashing")).categories
    assert "delivery" in classify(make_review(text="El pedido llegó tarde")).categories
    assert classify(make_review(text="Lovely people, great bread")).escalation_reasons == []
