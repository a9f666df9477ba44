package classify

import "strings"

// firstNames is a small list of common given names from several languages.
// It lifts a bare "name" field to person_name when the value starts with
// one; fields named first_name/full_name/... need no list.
var firstNames = toSet(strings.Fields(`
james john robert michael william david richard joseph thomas charles christopher daniel matthew
anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward
jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin
samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry
douglas zachary peter kyle ethan walter noah jeremy christian keith roger terry gerald harold sean
austin carl arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel logan albert willie
alan juan wayne elijah randy roy vincent ralph eugene russell bobby mason philip louis
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret
sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca
sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha
katherine christine debra rachel carolyn janet catherine maria heather diane ruth julie olivia
joyce virginia victoria kelly lauren christina joan evelyn judith megan andrea cheryl hannah
jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail alice judy
sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany
charlotte marie kayla alexis lori
hans peter klaus jürgen jurgen wolfgang michael thomas andreas stefan uwe frank dieter horst
günter gunter werner manfred karl heinz sabine ursula petra monika claudia susanne andrea birgit
anja katrin julia lena lea leonie lukas leon finn jonas felix maximilian paul luca elias
jean pierre michel philippe alain nicolas christophe françois francois patrick sébastien sebastien
julien laurent olivier marie nathalie isabelle sylvie catherine françoise francoise valérie valerie
sophie camille chloé chloe manon inès ines léa lea hugo louis gabriel raphaël raphael arthur
antonio manuel francisco javier josé jose david juan carlos luis miguel alejandro pablo sergio
jorge alberto fernando rafael daniel pedro ángel angel carmen josefa isabel dolores pilar teresa
ana laura cristina marta lucía lucia paula sofía sofia valentina camila martina
giuseppe giovanni mario luigi francesco roberto stefano marco andrea alessandro matteo lorenzo
giulia chiara francesca sara alessia elena federica silvia valentina
joão joao pedro lucas gabriel rafael mariana beatriz larissa fernanda
jan piet kees henk johan sanne emma tess lotte anouk daan sem
ivan dmitri sergei alexei olga natasha irina svetlana tatiana anastasia
wei li ming hui jing yan hiroshi takashi yuki akira haruto yui sakura aiko kenji
mohammed muhammad ahmed ali omar fatima aisha yusuf hassan ibrahim layla zainab
raj rahul amit priya anjali deepak sunil anil vijay sanjay pooja neha arjun
kwame kofi ama abena chinedu ngozi oluwaseun tunde
anna ola piotr krzysztof tomasz agnieszka katarzyna magdalena
lars erik nils sven ingrid astrid freya mats johan oskar elin
sean liam aoife siobhan ciara niamh patrick
`)...)

// knownFirstName reports whether the first word of v is a common given
// name and at least two words are present.
func knownFirstName(v string) bool {
	sp := strings.IndexByte(v, ' ')
	if sp <= 0 || sp == len(v)-1 {
		return false
	}
	return firstNames[strings.ToLower(v[:sp])]
}
