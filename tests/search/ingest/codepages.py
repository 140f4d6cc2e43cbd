"""A small corpus of office documents as legacy systems saved them: Western European languages
in Windows-1252, ISO-8859-1 and ISO-8859-15, and other code pages that must keep being read
right (Windows-1250 Polish and Czech, Windows-1251 and KOI8-R Russian, Shift-JIS Japanese).
Written here as text and encoded by the tests (nothing binary is committed)."""

from __future__ import annotations

# (file name, code page, text); every file of a Western code page uses its accented letters
CORPUS = [
    (
        "fr-teletravail.txt",
        "cp1252",
        "Politique de télétravail\n\n"
        "Le café coûte 3 € et la crème brûlée aussi. Les employés peuvent travailler à "
        "distance deux jours par semaine, après accord de leur responsable. Le matériel fourni "
        "(ordinateur portable, écran, casque) reste la propriété de l’entreprise. Une "
        "indemnité forfaitaire de 2,50 € par journée télétravaillée est versée chaque "
        "trimestre ; elle ne couvre pas les dépenses d’électricité.\n",
    ),
    (
        "fr-oeuvres-sociales.txt",
        "iso8859_15",
        "Œuvres sociales du comité\n\n"
        "Le comité finance des séjours à tarif réduit : 150 € par enfant et par été. Les "
        "demandes se font au cœur du mois de mars, auprès de la sœur Hélène, responsable des "
        "œuvres. Les chèques-vacances sont distribués en décembre.\n",
    ),
    (
        "de-reisekosten.txt",
        "cp1252",
        "Reisekostenrichtlinie\n\n"
        "Übernachtungskosten werden bis zu 120 € pro Nacht erstattet. Für Fahrten mit dem "
        "privaten Pkw gilt eine Pauschale von 0,30 € je gefahrenem Kilometer. Belege müssen "
        "innerhalb von vier Wochen eingereicht werden; verspätete Anträge können nicht "
        "berücksichtigt werden. Größere Ausgaben sind vorab zu genehmigen. Grüße, Jürgen.\n",
    ),
    (
        "de-arbeitszeit.txt",
        "latin-1",
        "Arbeitszeitregelung\n\n"
        "Die regelmäßige Arbeitszeit beträgt vierzig Stunden pro Woche. Überstunden werden "
        "durch Freizeit ausgeglichen. Gleitzeit ist zwischen sieben und neunzehn Uhr möglich; "
        "die Kernzeit endet freitags früher.\n",
    ),
    (
        "es-vacaciones.txt",
        "latin-1",
        "Política de vacaciones\n\n"
        "Cada empleado tiene derecho a veintidós días laborables de vacaciones al año. ¿Qué "
        "ocurre si no se disfrutan? Los días pendientes pueden trasladarse hasta el 31 de "
        "marzo. El señor Muñoz, de administración, resolverá cualquier duda sobre la "
        "compensación económica.\n",
    ),
    (
        "pt-seguranca.txt",
        "cp1252",
        "Regulamento de segurança da informação\n\n"
        "As senhas devem ter no mínimo doze caracteres e ser alteradas a cada noventa dias. É "
        "proibido compartilhar credenciais, mesmo em situações de urgência. Em caso de "
        "suspeita de violação, a equipe deve ser informada imediatamente. Atenção: não é "
        "permitida a instalação de programas não autorizados.\n",
    ),
    (
        "nl-ziekmelding.txt",
        "cp1252",
        "Richtlijn voor ziekmelding\n\n"
        "Meld je vóór 9.00 uur ziek bij je leidinggevende. Bij een verzuim van meer dan één "
        "week neemt de bedrijfsarts contact met je op. Een reïntegratieplan wordt samen "
        "opgesteld; het beleid is geëvalueerd in 2023 en blijft van kracht.\n",
    ),
    (
        "it-veicoli.txt",
        "iso8859_15",
        "Regolamento per l'uso dei veicoli aziendali\n\n"
        "I veicoli possono essere utilizzati solo per attività di servizio. Il conducente è "
        "responsabile della custodia del mezzo. Perché il rimborso del carburante sia "
        "approvato, è necessario allegare lo scontrino; il massimale è di 80 € al mese. Città "
        "e orari di partenza vanno registrati.\n",
    ),
    (
        "sv-friskvard.txt",
        "latin-1",
        "Policy för friskvårdsbidrag\n\n"
        "Alla anställda har rätt till ett friskvårdsbidrag på upp till 3 000 kronor per år. "
        "Kvitton ska lämnas till löneavdelningen senast den sista december. Frågor besvaras "
        "av Åsa Öberg på personalavdelningen.\n",
    ),
    (
        "da-motelokaler.txt",
        "cp1252",
        "Retningslinjer for mødelokaler\n\n"
        "Mødelokaler bookes via kalenderen og skal forlades ryddeligt. Kaffe og te kan hentes "
        "i køkkenet på første sal. Større arrangementer aftales med receptionen; spørgsmål om "
        "udstyr rettes til Søren Kjær.\n",
    ),
    (
        "pl-praca-zdalna.txt",
        "cp1250",
        "Regulamin pracy zdalnej\n\n"
        "Pracownik może wykonywać pracę zdalnie po uzgodnieniu z przełożonym. Zapewnia on "
        "bezpieczeństwo danych i poufność informacji służbowych. W razie awarii sprzętu należy "
        "niezwłocznie zgłosić to do działu informatycznego. Źródło: zarządzenie dyrektora.\n",
    ),
    (
        "cs-pracovni-cesty.txt",
        "cp1250",
        "Směrnice o pracovních cestách\n\n"
        "Zaměstnanec je povinen předložit vyúčtování pracovní cesty do deseti pracovních dnů "
        "po jejím skončení. Ubytování nad rámec stanoveného limitu musí schválit vedoucí "
        "útvaru. Stravné se vyplácí podle délky cesty.\n",
    ),
    (
        "ru-otpusk.txt",
        "cp1251",
        "Положение об отпусках\n\n"
        "Ежегодный оплачиваемый отпуск предоставляется сотрудникам продолжительностью "
        "двадцать восемь календарных дней. Заявление подаётся не позднее чем за две недели до "
        "начала отпуска.\n",
    ),
    (
        "ru-ohrana-truda.txt",
        "koi8_r",
        "Инструкция по охране труда\n\n"
        "Перед началом работы сотрудник обязан проверить исправность оборудования. О любых "
        "неисправностях следует немедленно сообщить руководителю.\n",
    ),
    (
        "ja-shugyo-kisoku.txt",
        "shift_jis",
        "就業規則\n\n"
        "従業員は、始業時刻の十分前までに出社し、業務の準備をしなければならない。"
        "遅刻または欠勤する場合は、事前に所属長へ連絡すること。\n",
    ),
]
