using Incubator.Domain.Tasks;

namespace Incubator.Tests.Mining;

/// <summary>Small labelled corpora written for the mining tests: each text's true label is known, so the precision of
/// what mining picks can be measured. Texts avoid repeating the label definitions word for word.</summary>
internal static class MiningFixtures
{
    public static readonly TaskSpec EnglishTask = new()
    {
        Name = "Support triage",
        Instruction = "Sort customer support messages by what the customer needs help with.",
        Labels =
        [
            new LabelSpec { Name = "billing", Description = "Questions or complaints about invoices, charges, payments, refunds or subscription prices." },
            new LabelSpec { Name = "shipping", Description = "Questions or complaints about the delivery of a physical order: tracking, delays, lost or damaged parcels, couriers." },
            new LabelSpec { Name = "login", Description = "Problems signing in to the account: forgotten passwords, locked accounts, two-factor codes, login errors." },
            new LabelSpec { Name = "other", Description = "Any other support message.", IsOther = true },
        ],
        Preferences = new TaskPreferences { Language = "en" },
    };

    public static readonly string[] Billing =
    [
        "I was charged twice for my subscription this month.",
        "Why is my invoice higher than the price on your website?",
        "Please refund the payment I made by mistake yesterday.",
        "My credit card was billed after I cancelled my plan.",
        "Can I get a copy of the invoice for March?",
        "The annual fee went up without any notice.",
        "I need a receipt for the payment I made last week.",
        "You took money from my account twice for one order.",
        "How do I change the card you charge every month?",
        "I want my money back for the premium plan I never used.",
        "The discount code was not applied to my bill.",
        "Why was I charged a late payment fee?",
        "My bank shows a pending charge from you that I don't recognise.",
        "Can I pay the invoice by bank transfer instead of card?",
        "The refund you promised two weeks ago still hasn't arrived.",
        "I was billed for three seats but we only use two.",
        "Please cancel the automatic renewal before I am charged again.",
        "The VAT on my invoice is wrong.",
        "I'd like to switch from monthly to yearly billing to save money.",
        "Your payment page keeps declining my card.",
        "There is an unexpected extra charge of 9.99 on my statement.",
        "How much does the business plan cost per user?",
        "I was overcharged on my last bill, please correct it.",
        "Could you send the invoice to our accounting department?",
        "The trial was supposed to be free but you charged me.",
        "When will the credit note for the returned item be issued?",
        "My payment failed but the money left my account anyway.",
        "Please explain the fees listed on this month's statement.",
        "I need to update the billing address on my invoices.",
        "Is there a refund if I cancel in the middle of the year?",
        "You charged me in dollars instead of euros.",
        "Our company needs a quote before paying for the upgrade.",
        "The price increase was applied to my old contract.",
        "I paid the invoice but it still shows as unpaid.",
        "Can you split the payment into three instalments?",
        "Why did my subscription cost double this time?",
        "I would like a partial refund for the days of downtime.",
        "The coupon for 20 percent off did not reduce the total.",
        "My PayPal payment was taken but the order says unpaid.",
        "Please stop charging my old credit card.",
    ];

    public static readonly string[] Shipping =
    [
        "My parcel has not arrived and it has been two weeks.",
        "The tracking number you sent does not work.",
        "The box arrived crushed and the vase inside was broken.",
        "When will my order be delivered?",
        "The courier left the package at the wrong address.",
        "My delivery is stuck at the customs office.",
        "Can I change the delivery address for an order already shipped?",
        "The package shows delivered but I never received it.",
        "Why is the delivery taking so long?",
        "Half of my order is missing from the box.",
        "The driver never came although I stayed home all day.",
        "Do you ship to Norway?",
        "My order has been in processing for ten days and has not shipped.",
        "The parcel was returned to sender without any attempt to deliver.",
        "Can I pick up my order at a post office instead?",
        "The tracking page has not updated since Monday.",
        "The shoes arrived soaking wet and damaged.",
        "I received someone else's package.",
        "How much is express delivery to London?",
        "My order was sent to my old address.",
        "The courier asked me to pay a fee on delivery.",
        "The delivery window was missed twice this week.",
        "Could you resend the item that was lost in transit?",
        "The box was opened and some items were stolen before it reached me.",
        "Which carrier will bring my order?",
        "My package is stuck at the sorting centre.",
        "I need the order delivered before Friday, is that possible?",
        "The shipment was split but only one part has arrived.",
        "The glass bottles were shattered when the parcel arrived.",
        "Can you leave the package with my neighbour?",
        "Your delivery company lost my parcel.",
        "I was told the order shipped but there is no tracking information.",
        "The package arrived a week after the promised date.",
        "Is it possible to schedule the delivery for the weekend?",
        "The courier damaged my fence while dropping off the box.",
        "My order was delivered to a locker I cannot open.",
        "How long does standard shipping take to Canada?",
        "The parcel label has the wrong postcode.",
        "Nothing has moved on the tracking for my order in eight days.",
        "The table legs were bent in transit.",
    ];

    public static readonly string[] Login =
    [
        "I forgot my password and the reset email never comes.",
        "My account is locked after too many attempts.",
        "The two-factor code is not accepted.",
        "I cannot sign in, it says invalid credentials.",
        "I lost my phone and cannot get the authentication code.",
        "The login page just reloads when I enter my password.",
        "How do I reset my password?",
        "It says my session has expired every time I log in.",
        "I changed my email address and now I cannot log in.",
        "The password reset link says it has expired.",
        "Single sign-on with Google stopped working for my account.",
        "I keep getting an error 403 after signing in.",
        "My username is not recognised anymore.",
        "Can you unlock my account please?",
        "The verification SMS never arrives.",
        "After the update I am logged out every few minutes.",
        "I cannot log in on the mobile app but the website works.",
        "Someone changed my password and I cannot get into my account.",
        "The captcha on the sign-in page never loads.",
        "I set up an authenticator app and now my codes are rejected.",
        "It asks me to log in again every time I open a new page.",
        "My password manager fills the password but login still fails.",
        "How can I recover access to my account without my old email?",
        "The sign in button does nothing when I click it.",
        "I get 'user not found' although I have an account.",
        "Please disable two-step verification, I lost my backup codes.",
        "I was locked out after resetting my password twice.",
        "The login screen says my account is disabled.",
        "I cannot sign in with my Microsoft work account.",
        "The magic link to log in takes me to an error page.",
        "My new password is not accepted even though it meets the rules.",
        "I get stuck in a loop between the login page and the home page.",
        "My account was suspended and I cannot sign in.",
        "The security questions to recover my account are wrong.",
        "I never receive the one-time passcode by email.",
        "The app says 'incorrect password' but I just reset it.",
        "How do I log out of all devices and sign in again?",
        "My login works on Chrome but not on Safari.",
        "I can't remember which email I used to sign up.",
        "Signing in with Apple shows a blank screen.",
    ];

    public static readonly string[] OffTopic =
    [
        "The weather in Lisbon was lovely all week.",
        "Add the garlic and fry it gently for two minutes.",
        "Our team won the match three to one.",
        "The museum opens at nine on Sundays.",
        "She planted tomatoes and basil in the garden.",
        "The novel is set in a small village in Scotland.",
        "Mix the flour with the eggs until smooth.",
        "The train to Milan leaves from platform four.",
        "He practises the piano every evening.",
        "The mountains were covered in fresh snow.",
        "Bake the bread for forty minutes at 200 degrees.",
        "The concert was cancelled because of the storm.",
    ];

    /// <summary>Support messages that belong to none of the specific labels: what the other label should take.</summary>
    public static readonly string[] OtherSupport =
    [
        "Can you add a dark mode to the app?",
        "How do I export my data to Excel?",
        "I want to change the language of the interface.",
        "Your support agent was very rude to me.",
        "How can I delete my account and all my data?",
        "The search function returns no results.",
        "Is there an API for developers?",
        "Can I share my dashboard with a colleague?",
        "The notifications are too frequent, how do I turn them off?",
        "Where can I find the user manual?",
        "The app is very slow since the last update.",
        "I would like to suggest a new feature for reports.",
    ];

    public static IEnumerable<(string Label, string Text)> Labelled() =>
        Billing.Select(t => ("billing", t)).Concat(Shipping.Select(t => ("shipping", t))).Concat(Login.Select(t => ("login", t)))
            .Concat(OtherSupport.Select(t => ("other", t))).Concat(OffTopic.Select(t => ("off-topic", t)));

    public static readonly TaskSpec JapaneseTask = new()
    {
        Name = "問い合わせ分類",
        Instruction = "お客様からの問い合わせを内容で分類してください。",
        Labels =
        [
            new LabelSpec { Name = "請求", Description = "請求書、料金、支払い、返金に関する問い合わせ。" },
            new LabelSpec { Name = "配送", Description = "荷物の配送、配達の遅れ、追跡番号、届かない荷物に関する問い合わせ。" },
            new LabelSpec { Name = "ログイン", Description = "ログインできない、パスワードを忘れた、アカウントがロックされたなどの問い合わせ。" },
        ],
        Preferences = new TaskPreferences { Language = "ja" },
    };

    public static readonly string[] JapaneseBilling =
    [
        "今月の料金が二重に請求されています。",
        "請求書の金額が間違っていると思います。",
        "返金はいつ口座に振り込まれますか。",
        "支払い方法をクレジットカードから銀行振込に変更したいです。",
        "解約したのに料金が請求されました。",
        "先月分の請求書を再発行してください。",
        "支払いが完了したのに未払いと表示されます。",
        "料金プランの値上げについて説明してください。",
        "返金の手続きが進んでいないようです。",
        "請求金額に消費税が二重にかかっています。",
        "クーポンを使ったのに料金が割引されていません。",
        "年払いに変更すると料金はいくらになりますか。",
    ];

    public static readonly string[] JapaneseShipping =
    [
        "注文した荷物がまだ届きません。",
        "追跡番号を入力しても配送状況が表示されません。",
        "配達予定日を過ぎても荷物が届いていません。",
        "荷物が破損した状態で配達されました。",
        "配送先の住所を変更したいです。",
        "配達員が不在票を入れずに荷物を持ち帰りました。",
        "配送の遅れはいつ解消されますか。",
        "届いた荷物の中身が一部足りません。",
        "追跡番号の荷物が別の住所に配達されたようです。",
        "週末に配達してもらうことはできますか。",
        "荷物が配送センターで止まったままです。",
        "配達完了になっているのに荷物が届いていません。",
    ];

    public static readonly string[] JapaneseLogin =
    [
        "パスワードを忘れてログインできません。",
        "アカウントがロックされてしまいました。",
        "ログインしようとするとエラーが表示されます。",
        "パスワード再設定のメールが届きません。",
        "二段階認証のコードが受け付けられずログインできません。",
        "新しいパスワードでもログインできません。",
        "アカウントのロックを解除してください。",
        "スマホのアプリだけログインできません。",
        "ログイン画面から先に進めません。",
        "パスワードを変更した後にログインできなくなりました。",
        "ログインするたびにアカウントがロックされます。",
        "メールアドレスを変えたらログインできなくなりました。",
    ];

    public static IEnumerable<(string Label, string Text)> JapaneseLabelled() =>
        JapaneseBilling.Select(t => ("請求", t)).Concat(JapaneseShipping.Select(t => ("配送", t))).Concat(JapaneseLogin.Select(t => ("ログイン", t)));
}
