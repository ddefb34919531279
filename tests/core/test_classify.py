import pytest

from plugin.classify import Lexicon, classifier_for, detect_language, fold


def test_fold_ignores_case_and_accents():
    assert fold("Café CRÈME, Straße") == "cafe creme, strasse"


def test_lexicon_matches_at_word_start_only():
    lexicon = Lexicon({"crash": {"en": ("crash",)}, "ads": {"en": ("ads",)},
                       "delivery": {"en": ("late delivery", "delivery")}})
    assert lexicon.match(fold("It CRASHES and crashed again")) == ["crash"]
    assert lexicon.match(fold("the roads were closed")) == []
    assert lexicon.match(fold("late   delivery, bad delivery")) == ["delivery"]


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
])
def test_escalation_reasons(policy, make_review, text, reason):
    classification = classifier_for(policy).classify(make_review(text=text))
    assert reason in classification.escalation_reasons


def test_categories_across_languages(policy, make_review):
    classify = classifier_for(policy).classify
    assert "crash" in classify(make_review(text="The app keeps crashing")).categories
    assert "delivery" in classify(make_review(text="El pedido llegó tarde")).categories
    assert classify(make_review(text="Lovely people, great bread")).escalation_reasons == []
